#!/usr/bin/env bash
# How long `parley serve` takes, on the embedded defaults (domain localhost, self-signed certificate, SQLite, every
# default listener), from exec to a TCP connection accepted on port 5222. Runs the built executable (a Release build
# first), not `dotnet run`, whose own start (project evaluation, up-to-date check) is not the server's.
#
#   bench/load/startup.sh [runs]      (default 10; prints each run, then min/median/max in seconds)
#
# The first run of a fresh data directory generates the certificate; it is made before the timed runs.
# Needs ports 5222, 5223, 5269 and 5443 free. Loopback only; every loop is bounded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-10}
for port in 5222 5223 5269 5443; do
  if [ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]; then echo "port $port is in use; stop what holds it first" >&2; exit 1; fi
done
dotnet build -c Release -v q -nologo "$ROOT/src/Parley.Cli" >/dev/null
PARLEY=$ROOT/src/Parley.Cli/bin/Release/net10.0/parley
DIR=$(mktemp -d /tmp/parley-startup.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"

run() {   # prints seconds to the first accepted connection, or fails after 10 s
  local t0 t1 pid i
  t0=$(date +%s%N)
  "$PARLEY" serve >"$DIR/out.log" 2>&1 &
  pid=$!
  for i in $(seq 1 2000); do
    if (exec 3<>/dev/tcp/127.0.0.1/5222) 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { echo "parley exited:" >&2; cat "$DIR/out.log" >&2; return 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}

run >/dev/null   # generates the certificate and the database
times=()
for i in $(seq 1 "$RUNS"); do t=$(run); times+=("$t"); echo "run $i: $t s"; done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "startup_s min=$(echo "$sorted" | head -1) median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p") max=$(echo "$sorted" | tail -1) (load average $(cut -d' ' -f1 /proc/loadavg))"
