#!/usr/bin/env bash
# Cross-check of the load generator against tsung (Debian's, 1.7): the same chat load on the same Parley, once
# driven by tsung and once by tools/Parley.Load, reporting for each the server's CPU time per delivered message and
# the generator's own CPU time per message. If the two server figures agree, parley-load is not what limits the
# measurement; the generator figures show how much lighter it is than tsung.
#
#   bench/load/tsung.sh            (USERS=1000 DURATION=30: 1,000 users online, each sending one chat message a second)
#
# Both runs: STARTTLS, users log in first, then chat messages of 16 random bytes to random online users. tsung logs
# in with SASL PLAIN (1.7 has no SCRAM), parley-load with SCRAM-SHA-256; only the chat window is measured.
# Delivered messages come from Parley's own counter (/metrics: parley_stanzas_out_total{kind="message"}), CPU time
# from /proc. Loopback only; every loop is bounded. Installs tsung with apt-get when run as root and it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${USERS:=1000}" "${DURATION:=30}"
DOMAIN=load.localhost
ADDRESS=127.0.0.2
PORT=${LOAD_PORT:-15222}
HTTPS_PORT=${LOAD_HTTPS_PORT:-15443}

if ! command -v tsung >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q tsung >/dev/null; else echo "tsung is not installed: apt-get install tsung" >&2; exit 1; fi
fi

SCRATCH=$(mktemp -d /tmp/parley-tsung.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  pkill -f "tsung_controller.*$SCRATCH" 2>/dev/null || true
  if [ "${KEEP_SCRATCH:-0}" = 1 ]; then echo "scratch kept: $SCRATCH" >&2; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }

dotnet build -c Release -v q -nologo "$ROOT/src/Parley.Cli" >"$SCRATCH/build.log" 2>&1 || { cat "$SCRATCH/build.log"; exit 1; }
dotnet build -c Release -v q -nologo "$ROOT/tools/Parley.Load" >>"$SCRATCH/build.log" 2>&1 || { cat "$SCRATCH/build.log"; exit 1; }
LOAD="$ROOT/tools/Parley.Load/bin/Release/net10.0/parley-load"

mkdir -p "$SCRATCH/tls" "$SCRATCH/data"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=$DOMAIN" \
  -addext "subjectAltName=DNS:$DOMAIN" -keyout "$SCRATCH/tls/key.pem" -out "$SCRATCH/tls/cert.pem" 2>/dev/null
# As compare.sh: the modules with no peer equivalent on the chat path are off; BOSH keeps the HTTPS listener (and
# with it /metrics, loopback only) up.
cat >"$SCRATCH/parley.json" <<EOF
{
  "Domain": "$DOMAIN",
  "DataDirectory": "$SCRATCH/data",
  "C2s": { "Address": "$ADDRESS", "Port": $PORT },
  "C2sDirectTls": { "Enabled": false },
  "S2s": { "Enabled": false },
  "Upload": { "Address": "127.0.0.1", "Port": $HTTPS_PORT },
  "Tls": { "CertificatePath": "$SCRATCH/tls/cert.pem", "KeyPath": "$SCRATCH/tls/key.pem" },
  "DisabledModules": [ "mam", "muc", "pubsub", "pep", "push", "upload", "extdisco" ],
  "WebSocket": { "Enabled": false },
  "WebClient": { "Enabled": false },
  "Registration": { "Enabled": true, "PerAddressPerHour": 1000000 },
  "Logging": { "LogLevel": { "Default": "Warning" } }
}
EOF
# A listener left from another run would be measured instead of this server.
if [ -n "$(ss -ltnH "src $ADDRESS:$PORT" 2>/dev/null)" ]; then echo "something already listens on $ADDRESS:$PORT; stop it first" >&2; exit 1; fi
"$ROOT/src/Parley.Cli/bin/Release/net10.0/parley" serve --config "$SCRATCH/parley.json" --data "$SCRATCH/data" >"$SCRATCH/parley.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 300); do (exec 3<>"/dev/tcp/$ADDRESS/$PORT") 2>/dev/null && break; sleep 0.05; done
log "parley: pid $SERVER_PID"

# tsung's accounts are <username><i> with password <passwd><i>, i from 1.
"$LOAD" register --server "$ADDRESS:$PORT" --domain "$DOMAIN" --users "$USERS" --first-user 1 --user-prefix tsuser \
  --password tspass --password-suffix --concurrency 16 >"$SCRATCH/register.out" 2>&1
log "accounts: $(grep -h '^register_ok=' "$SCRATCH/register.out" | cut -d= -f2) of $USERS"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
delivered() {   # messages Parley has written to client connections so far
  curl -sk "https://127.0.0.1:$HTTPS_PORT/metrics" | awk '/^parley_stanzas_out_total\{.*kind="message"/ {s += $NF} END {printf "%d", s}'
}
HZ=$(getconf CLK_TCK)

# --- tsung: users arrive at 100 a second until all USERS are there (the phase is long enough for a Poisson
# arrival process to reach maxnumber), wait for each other, then send one message a second each.
ARRIVAL=$(( USERS / 100 + 30 ))
LOOPS=$(( DURATION + 20 ))
cat >"$SCRATCH/tsung.xml" <<EOF
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning" version="1.0">
  <clients><client host="localhost" use_controller_vm="true" maxusers="$(( USERS + 10 ))"/></clients>
  <servers><server host="$ADDRESS" port="$PORT" type="tcp"/></servers>
  <load><arrivalphase phase="1" duration="$ARRIVAL" unit="second"><users maxnumber="$USERS" arrivalrate="100" unit="second"/></arrivalphase></load>
  <options>
    <option type="ts_jabber" name="global_number" value="$USERS"/>
    <option type="ts_jabber" name="userid_max" value="$USERS"/>
    <option type="ts_jabber" name="domain" value="$DOMAIN"/>
    <option type="ts_jabber" name="username" value="tsuser"/>
    <option type="ts_jabber" name="passwd" value="tspass"/>
  </options>
  <sessions>
    <session probability="100" name="chat" type="ts_jabber" bidi="true">
      <request><jabber type="connect" ack="local"/></request>
      <request><jabber type="starttls" ack="bidi_ack"/></request>
      <request><jabber type="connect" ack="local"/></request>
      <request><jabber type="auth_sasl" ack="local"/></request>
      <request><jabber type="connect" ack="local"/></request>
      <request><jabber type="auth_sasl_bind" ack="local"/></request>
      <request><jabber type="auth_sasl_session" ack="local"/></request>
      <request><jabber type="presence:initial" ack="no_ack"/></request>
      <thinktime value="wait_global"/>
      <for from="1" to="$LOOPS" var="i">
        <request><jabber type="chat" ack="no_ack" size="16" destination="online"/></request>
        <thinktime value="1"/>
      </for>
      <request><jabber type="close" ack="no_ack"/></request>
    </session>
  </sessions>
</tsung>
EOF
log "tsung: $USERS users, one message a second each"
( cd "$SCRATCH" && exec tsung -f "$SCRATCH/tsung.xml" -l "$SCRATCH/tsung-log" start ) >"$SCRATCH/tsung.out" 2>&1 &
TSUNG=$!
# Measure once every user is online: Parley's session count (the c2s sessions gauge) reaches USERS.
online() { curl -sk "https://127.0.0.1:$HTTPS_PORT/metrics" | awk '/^parley_sessions[ {]/ {s += $NF} END {printf "%d", s}'; }
for i in $(seq 1 $(( ARRIVAL * 10 + 300 ))); do [ "$(online)" -ge "$USERS" ] && break; kill -0 $TSUNG 2>/dev/null || break; sleep 0.1; done
n=$(online)
log "tsung: $n sessions online"
if [ "$n" -lt "$USERS" ]; then echo "tsung logged in only $n of $USERS users; its log: $SCRATCH/tsung-log" >&2; KEEP_SCRATCH=1; exit 1; fi
sleep 5
beam=$(pgrep -f "tsung_controller.*$SCRATCH" | head -1 || true)
[ -z "$beam" ] && beam=$(pgrep -n beam.smp || true)
s0=$(cpu_ticks $SERVER_PID); g0=$(cpu_ticks "$beam"); d0=$(delivered); t0=$(date +%s.%N)
sleep "$DURATION"
s1=$(cpu_ticks $SERVER_PID); g1=$(cpu_ticks "$beam"); d1=$(delivered); t1=$(date +%s.%N)
# The messages still to come are not measured: stop tsung (bounded: 10 s, then kill).
tsung stop >/dev/null 2>&1 || true
for i in $(seq 1 100); do kill -0 $TSUNG 2>/dev/null || break; sleep 0.1; done
kill $TSUNG 2>/dev/null || true
pkill -f "tsung_controller.*$SCRATCH" 2>/dev/null || true
T_RATE=$(echo "scale=1; ($d1 - $d0) / ($t1 - $t0)" | bc)
T_SERVER=$(echo "scale=1; ($s1 - $s0) * 1000000 / $HZ / ($d1 - $d0)" | bc)
T_GEN=$(echo "scale=1; ($g1 - $g0) * 1000000 / $HZ / ($d1 - $d0)" | bc)
log "tsung: $T_RATE msg/s delivered, server $T_SERVER µs/msg, tsung $T_GEN µs/msg"

# --- parley-load: the same users, the same total rate.
sleep 3
"$LOAD" chat --server "$ADDRESS:$PORT" --domain "$DOMAIN" --users "$USERS" --first-user 1 --user-prefix tsuser \
  --password tspass --password-suffix --rate "$USERS" --duration "$DURATION" --pid $SERVER_PID >"$SCRATCH/chat.out" 2>&1 || true
value() { { grep -h "^$2=" "$1" 2>/dev/null || true; } | tail -1 | cut -d= -f2; }
P_RATE=$(value "$SCRATCH/chat.out" chat_msgs_per_s); P_SERVER=$(value "$SCRATCH/chat.out" chat_cpu_us_per_msg); P_GEN=$(value "$SCRATCH/chat.out" load_cpu_us_per_msg)
log "parley-load: $P_RATE msg/s delivered, server $P_SERVER µs/msg, parley-load $P_GEN µs/msg"

echo
echo "machine: $(nproc) cores; load average now $(cut -d' ' -f1-3 /proc/loadavg); $USERS users, STARTTLS, $DURATION s measured"
printf '%-14s %16s %22s %24s\n' generator "delivered msg/s" "server CPU µs/msg" "generator CPU µs/msg"
printf '%-14s %16s %22s %24s\n' tsung "$T_RATE" "$T_SERVER" "$T_GEN"
printf '%-14s %16s %22s %24s\n' parley-load "$P_RATE" "$P_SERVER" "$P_GEN"
echo "tsung_cross_check server_us_per_msg tsung=$T_SERVER parley_load=$P_SERVER generator_us_per_msg tsung=$T_GEN parley_load=$P_GEN"
