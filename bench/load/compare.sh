#!/usr/bin/env bash
# Side by side: Parley, Debian's prosody and Debian's ejabberd, each from its own configuration and data directory
# under a scratch folder, on its own loopback address, same domain, accounts, certificate and TLS setup, driven in
# turn by the same load generator (tools/Parley.Load). Loopback only; every loop is bounded.
#
#   bench/load/compare.sh [--quick] [--tls starttls|plain] [--servers "parley prosody ejabberd"]
#                         [--scenarios "storm chat presence muc"] [--keep] [--plots DIR]
#
# --plots DIR writes each server's chat steps to DIR/chat-<server>.dat (and muc steps to DIR/muc<size>-<server>.dat)
# and, with gnuplot installed, draws DIR/<kind>-throughput.svg, <kind>-latency.svg and <kind>-cpu.svg for each kind
# (bench/load/plot.gp).
#
# Output: one table, then one line per figure: <figure> parley=<v> best_peer=<v> ratio=<v>
# (ratio = parley / best peer; for chat_p99_ms, chat_cpu_us_per_msg and idle_session_kib lower is better). With the
# muc scenario, muc<size>_fanout_per_s, muc<size>_p99_ms and muc<size>_cpu_us_per_delivery lines follow.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=0
TLS=starttls
SERVERS="parley prosody ejabberd"
KEEP=0
SCENARIOS=""
PLOTS=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --tls) TLS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --plots) PLOTS=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 [--quick] [--tls starttls|plain] [--servers \"parley prosody ejabberd\"] [--scenarios \"storm chat presence muc\"] [--keep] [--plots DIR]" >&2; exit 2 ;;
  esac
done

DOMAIN=load.localhost
# The same PBKDF2 iteration count on all three (ejabberd's is fixed at 4,096, the RFC 7677 minimum; Parley's and
# prosody's defaults are 10,000): the generator derives every login's key, so unequal counts would charge one
# server more client work than another in the setup rate.
SCRAM_ITERATIONS=4096
PORT=${LOAD_PORT:-15222}
PASSWORD=load-password
# Sizes can be overridden from the environment, e.g. STORM_USERS=10000 bench/load/compare.sh
# Presence: PRESENCE_USERS with CONTACTS contacts each (subscriptions 'both'), PRESENCE_RATE changes a second.
# MUC: MUC_USERS in rooms of each of MUC_SIZES occupants; each step offers MUC_FANOUTS deliveries a second in total
# (groupchat messages a second = fan-out / (size - 1)), and the best step is reported as for chat.
if [ $QUICK = 1 ]; then
  : "${STORM_USERS:=400}" "${CHAT_USERS:=100}" "${RATES:=2000}" "${DURATION:=4}" "${IDLE:=1.5}"
  : "${SCENARIOS:=storm chat}" "${PRESENCE_USERS:=200}" "${PRESENCE_RATE:=100}"
  : "${MUC_USERS:=200}" "${MUC_SIZES:=20}" "${MUC_FANOUTS:=4000}"
else
  : "${STORM_USERS:=2000}" "${CHAT_USERS:=1000}" "${RATES:=2000 4000 8000 16000 24000}" "${DURATION:=15}" "${IDLE:=5}"
  : "${SCENARIOS:=storm chat presence muc}" "${PRESENCE_USERS:=500}" "${PRESENCE_RATE:=200}"
  : "${MUC_USERS:=1000}" "${MUC_SIZES:=20 200}" "${MUC_FANOUTS:=5000 10000 20000 40000}"
fi
: "${CONTACTS:=50}" "${MAX_P99_MS:=1000}"
has() { case " $SCENARIOS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# Each storm session is a descriptor in the generator and one in the server: past the open-file limit (ulimit -n,
# which only a privileged user can raise) the storm would fail part way, so it is capped, and says so.
FD_LIMIT=$(ulimit -n)
if [ "$FD_LIMIT" != unlimited ] && [ "$STORM_USERS" -gt $(( FD_LIMIT - 500 )) ]; then
  echo "note: STORM_USERS=$STORM_USERS exceeds what the open-file limit ($FD_LIMIT, ulimit -n) allows; the storm uses $(( FD_LIMIT - 500 ))" >&2
  STORM_USERS=$(( FD_LIMIT - 500 ))
fi
USERS=0
has storm && USERS=$STORM_USERS
has chat && [ "$CHAT_USERS" -gt "$USERS" ] && USERS=$CHAT_USERS
has presence && [ "$PRESENCE_USERS" -gt "$USERS" ] && USERS=$PRESENCE_USERS
has muc && [ "$MUC_USERS" -gt "$USERS" ] && USERS=$MUC_USERS
declare -A ADDRESS=([parley]=127.0.0.2 [prosody]=127.0.0.3 [ejabberd]=127.0.0.4)

SCRATCH=$(mktemp -d /tmp/parley-compare.XXXXXX)
LAUNCHED=()      # pids this script started, stopped on exit
cleanup() {
  for pid in "${LAUNCHED[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_epmd
  if [ $KEEP = 0 ]; then rm -rf "$SCRATCH"; else echo "scratch kept: $SCRATCH" >&2; fi
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }

# The pid of the process listening on address:port (the server itself, whatever launcher started it).
listener_pid() {
  ss -ltnpH "src $1:$2" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1
}

wait_for_port() {   # address port seconds launcher-pid
  local i
  for i in $(seq 1 $(( $3 * 50 ))); do
    [ -n "$(listener_pid "$1" "$2")" ] && return 0
    kill -0 "$4" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# ejabberd's private epmd (ERL_EPMD_PORT=14369), which Erlang starts detached.
stop_epmd() {
  local pid
  pid=$(listener_pid 0.0.0.0 14369)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  return 0
}

stop_pid() {   # pid: TERM, then KILL after 10 s
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

log "building Parley and the load generator (Release)"
dotnet build -c Release -v q -nologo "$ROOT/src/Parley.Cli" >"$SCRATCH/build.log" 2>&1 || { cat "$SCRATCH/build.log"; exit 1; }
dotnet build -c Release -v q -nologo "$ROOT/tools/Parley.Load" >>"$SCRATCH/build.log" 2>&1 || { cat "$SCRATCH/build.log"; exit 1; }
LOAD="$ROOT/tools/Parley.Load/bin/Release/net10.0/parley-load"

# One self-signed certificate (EC P-256) for the domain, used by all three.
mkdir -p "$SCRATCH/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=$DOMAIN" \
  -addext "subjectAltName=DNS:$DOMAIN,DNS:*.$DOMAIN" \
  -keyout "$SCRATCH/tls/$DOMAIN.key" -out "$SCRATCH/tls/$DOMAIN.crt" 2>/dev/null
cat "$SCRATCH/tls/$DOMAIN.crt" "$SCRATCH/tls/$DOMAIN.key" >"$SCRATCH/tls/$DOMAIN.pem"
chmod 644 "$SCRATCH/tls/"*

# --- Parley: the modules a peer has no equivalent of here (MAM, PubSub/PEP, push, upload) are off. MUC is on for all
# three, with no archive (MAM is off), 20 messages of history and no flood limit (the peers have none by default).
start_parley() {
  local dir=$SCRATCH/parley
  mkdir -p "$dir/data"
  cat >"$dir/parley.json" <<EOF
{
  "Domain": "$DOMAIN",
  "DataDirectory": "$dir/data",
  "Storage": "sqlite",
  "C2s": { "Address": "${ADDRESS[parley]}", "Port": $PORT },
  "C2sDirectTls": { "Enabled": false },
  "Tls": { "CertificatePath": "$SCRATCH/tls/$DOMAIN.crt", "KeyPath": "$SCRATCH/tls/$DOMAIN.key",
           "AllowPlaintextOnLoopback": $([ "$TLS" = plain ] && echo true || echo false) },
  "DisabledModules": [ "mam", "pubsub", "pep", "push", "upload", "extdisco" ],
  "Muc": { "MessagesPerMinute": 100000000, "ArchiveByDefault": false },
  "WebSocket": { "Enabled": false },
  "Bosh": { "Enabled": false },
  "WebClient": { "Enabled": false },
  "S2s": { "Enabled": false },
  "Registration": { "Enabled": true, "PerAddressPerHour": 1000000 },
  "Auth": { "ScramIterations": $SCRAM_ITERATIONS },
  "Limits": { "MaxConnections": 200000 },
  "Logging": { "LogLevel": { "Default": "Warning" } }
}
EOF
  # The built executable, not `dotnet run`, whose own start (project evaluation) would count as the server's.
  "$ROOT/src/Parley.Cli/bin/Release/net10.0/parley" serve --config "$dir/parley.json" --data "$dir/data" >"$dir/out.log" 2>&1 &
  LAUNCHED+=($!)
}

# --- prosody 0.12: the equivalent modules, logging at warn, its own data directory and pid file.
start_prosody() {
  local dir=$SCRATCH/prosody
  mkdir -p "$dir/data"
  cat >"$dir/prosody.cfg.lua" <<EOF
run_as_root = true
daemonize = false
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
log = { warn = "$dir/prosody.log" }
interfaces = { "${ADDRESS[prosody]}" }
c2s_ports = { $PORT }
c2s_direct_tls_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "register"; "carbons"; "blocklist"; "private";
  "vcard_legacy"; "version"; "time"; "uptime"; "lastactivity"; "smacks"; "csi_simple" }
modules_disabled = { "s2s" }
c2s_require_encryption = $([ "$TLS" = plain ] && echo false || echo true)
allow_registration = true
min_seconds_between_registrations = 0
registration_throttle_max = 1000000
authentication = "internal_hashed"
default_iteration_count = $SCRAM_ITERATIONS
storage = "internal"
network_backend = "epoll"
tcp_backlog = 512
ssl = { certificate = "$SCRATCH/tls/$DOMAIN.crt"; key = "$SCRATCH/tls/$DOMAIN.key" }
VirtualHost "$DOMAIN"
Component "conference.$DOMAIN" "muc"
EOF
  prosody --config "$dir/prosody.cfg.lua" >"$dir/out.log" 2>&1 &
  LAUNCHED+=($!)
}

# The listen backlog is 512 for all three, Kestrel's default (ejabberd's is 5, which drops SYNs in a storm).
# --- ejabberd 23.01: a private copy of ejabberdctl that runs as the current user, with its own config directory,
# node name, cookie (HOME), spool, logs and epmd port; no shaper (the default 3000 B/s would throttle the load).
start_ejabberd() {
  local dir=$SCRATCH/ejabberd
  mkdir -p "$dir/etc" "$dir/spool" "$dir/log"
  sed 's/^INSTALLUSER=.*/INSTALLUSER=/' /usr/sbin/ejabberdctl >"$dir/ejabberdctl"
  chmod +x "$dir/ejabberdctl"
  cp /etc/ejabberd/inetrc "$dir/etc/inetrc"
  cat >"$dir/etc/ejabberdctl.cfg" <<EOF
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
ERL_MAX_PORTS=250000
EJABBERD_PID_PATH=$dir/ejabberd.pid
EOF
  cat >"$dir/etc/ejabberd.yml" <<EOF
loglevel: warning
log_rotate_count: 0
hosts: ["$DOMAIN"]
certfiles: ["$SCRATCH/tls/$DOMAIN.pem"]
listen:
  - port: $PORT
    ip: "${ADDRESS[ejabberd]}"
    module: ejabberd_c2s
    max_stanza_size: 262144
    starttls: true
    starttls_required: $([ "$TLS" = plain ] && echo false || echo true)
    access: c2s
    shaper: none
    backlog: 512
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha256
registration_timeout: infinity
acl:
  local: { user_regexp: "" }
access_rules:
  c2s: { allow: all }
  register: { allow: all }
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages: 1000
modules:
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}
  mod_register: { ip_access: all, access: register }
  mod_carboncopy: {}
  mod_privacy: {}
  mod_blocking: {}
  mod_private: {}
  mod_vcard: {}
  mod_version: {}
  mod_time: {}
  mod_last: {}
  mod_stream_mgmt: {}
  mod_client_state: {}
  mod_offline: {}
  mod_muc: { host: "conference.@HOST@", max_users: 1000, history_size: 20, default_room_options: { mam: false } }
EOF
  ( cd "$dir" && HOME=$dir ERL_EPMD_PORT=14369 exec "$dir/ejabberdctl" --config-dir "$dir/etc" --spool "$dir/spool" \
      --logs "$dir/log" --node "ejabberdload@localhost" foreground ) >"$dir/out.log" 2>&1 &
  LAUNCHED+=($!)
}

declare -A FIG
run_server() {   # name
  local name=$1 address=${ADDRESS[$1]} pid out rate best p99 cpu
  case $name in
    ejabberd) command -v erl >/dev/null && [ -x /usr/sbin/ejabberdctl ] || { log "ejabberd is not installed (apt-get install -y ejabberd): skipped"; return 0; } ;;
    prosody) command -v prosody >/dev/null || { log "prosody is not installed: skipped"; return 0; } ;;
  esac
  # A listener left from another run would be measured instead of this server.
  if [ -n "$(listener_pid "$address" "$PORT")" ]; then
    log "$name: something already listens on $address:$PORT (pid $(listener_pid "$address" "$PORT")); stop it first"; exit 1
  fi
  log "$name: starting on $address:$PORT"
  local t0=$(date +%s.%N)
  "start_$name"
  if ! wait_for_port "$address" "$PORT" 90 "${LAUNCHED[-1]}"; then
    log "$name: did not listen within 90 s; its log:"; tail -20 "$SCRATCH/$name/"*.log >&2 || true; return 0
  fi
  pid=$(listener_pid "$address" "$PORT")
  FIG[$name.startup_s]=$(echo "scale=2; ($(date +%s.%N) - $t0) / 1" | bc)
  log "$name: listening after ${FIG[$name.startup_s]} s, pid $pid"
  # --scram-cache: registration logs every account in once and keeps its SCRAM SaltedPassword (RFC 5802 §5.1), so
  # that later logins are a returning client's and the generator's PBKDF2 (≈ 2 ms a login, more than a server's
  # whole setup) does not set the pace of the storm. The same for every server.
  local common=(--server "$address:$PORT" --domain "$DOMAIN" --password "$PASSWORD" --tls "$TLS" --pid "$pid" --label "$name"
                --scram-cache "$SCRATCH/$name.scram-keys")

  # Accounts are made over STARTTLS whatever --tls says: servers refuse in-band registration in the clear.
  "$LOAD" register "${common[@]}" --tls starttls --users "$USERS" --concurrency 16 >"$SCRATCH/$name.register" 2>&1 || true
  log "$name: accounts $(grep -h '^register_ok=' "$SCRATCH/$name.register" | cut -d= -f2) of $USERS (load avg $(cut -d' ' -f1 /proc/loadavg))"

  if has storm; then
  "$LOAD" storm "${common[@]}" --users "$STORM_USERS" --idle "$IDLE" >"$SCRATCH/$name.storm" 2>&1 || true
  FIG[$name.conn_setup_per_s]=$(value "$SCRATCH/$name.storm" conn_setup_per_s)
  FIG[$name.idle_session_kib]=$(value "$SCRATCH/$name.storm" idle_session_kib)
  FIG[$name.conn_failures]=$(value "$SCRATCH/$name.storm" conn_failures)
  FIG[$name.storm_load]=$(value "$SCRATCH/$name.storm" loadavg)
  FIG[$name.conn_server_cpu_ms]=$(value "$SCRATCH/$name.storm" conn_server_cpu_ms)
  FIG[$name.conn_load_cpu_ms]=$(value "$SCRATCH/$name.storm" conn_load_cpu_ms)
  FIG[$name.sasl_mechanism]=$(value "$SCRATCH/$name.storm" sasl_mechanism)
  FIG[$name.storm_sessions]=$(value "$SCRATCH/$name.storm" storm_sessions)
  local n r
  for n in 1000 10000 50000 after; do
    r=$(value "$SCRATCH/$name.storm" "server_rss_kib_at_$n")
    [ "$n" = after ] && r=$(value "$SCRATCH/$name.storm" server_rss_after_kib)
    if [ -n "$r" ]; then FIG[$name.rss_mib_at_${n/after/all}]=$(( r / 1024 )); fi
  done
  log "$name: storm ${FIG[$name.conn_setup_per_s]} conn/s, ${FIG[$name.idle_session_kib]} KiB/session, ${FIG[$name.conn_failures]} failed"
  fi

  # The best chat step: the highest delivered rate with under 1 % lost and p99 under MAX_P99_MS (a saturated
  # server that queues still delivers everything, seconds late).
  best=""
  RATES_RUN=""; has chat && RATES_RUN=$RATES
  [ -n "$PLOTS" ] && [ -n "$RATES_RUN" ] && : >"$PLOTS/chat-$name.dat"
  for rate in $RATES_RUN; do
    out=$SCRATCH/$name.chat.$rate
    "$LOAD" chat "${common[@]}" --users "$CHAT_USERS" --rate "$rate" --duration "$DURATION" >"$out" 2>&1 || true
    log "$name: chat offered $rate/s: delivered $(value "$out" chat_msgs_per_s)/s p99 $(value "$out" chat_p99_ms) ms, $(value "$out" chat_cpu_us_per_msg) µs CPU/msg (load avg $(value "$out" loadavg))"
    local sent lost
    local p99
    sent=$(value "$out" chat_sent); lost=$(value "$out" chat_lost); p99=$(value "$out" chat_p99_ms)
    [ -n "$PLOTS" ] && [ -n "$sent" ] && echo "$rate $(value "$out" chat_msgs_per_s) $(value "$out" chat_p50_ms) $p99 $(value "$out" chat_p999_ms) $(value "$out" chat_cpu_us_per_msg)" >>"$PLOTS/chat-$name.dat"
    if [ -n "$sent" ] && [ "$sent" != 0 ] && [ "$(echo "$lost * 100 < $sent && ${p99:-0} < $MAX_P99_MS" | bc)" = 1 ]; then best=$out; fi
  done
  if [ -n "$best" ]; then
    for f in chat_msgs_per_s chat_p50_ms chat_p99_ms chat_p999_ms chat_cpu_us_per_msg load_cpu_us_per_msg loadavg; do FIG[$name.$f]=$(value "$best" "$f"); done
  fi

  if has presence; then
    out=$SCRATCH/$name.roster
    "$LOAD" roster "${common[@]}" --users "$PRESENCE_USERS" --contacts "$CONTACTS" >"$out" 2>&1 || true
    log "$name: rosters $(value "$out" roster_subscriptions) of $(value "$out" roster_subscriptions_wanted) subscriptions in $(value "$out" roster_seconds) s"
    out=$SCRATCH/$name.presence
    "$LOAD" presence "${common[@]}" --users "$PRESENCE_USERS" --contacts "$CONTACTS" --rate "$PRESENCE_RATE" --duration "$DURATION" >"$out" 2>&1 || true
    for f in presence_delivered_per_s presence_p99_ms presence_cpu_us_per_stanza presence_mutual_contacts_avg login_p50_ms login_p99_ms; do FIG[$name.$f]=$(value "$out" "$f"); done
    log "$name: presence $(value "$out" presence_delivered_per_s)/s delivered of $(value "$out" presence_expected) expected in the window, p99 $(value "$out" presence_p99_ms) ms, $(value "$out" presence_cpu_us_per_stanza) µs CPU/stanza, login p50 $(value "$out" login_p50_ms) ms (load avg $(value "$out" loadavg))"
  fi

  if has muc; then
    local size fanout
    for size in $MUC_SIZES; do
      best=""
      [ -n "$PLOTS" ] && : >"$PLOTS/muc$size-$name.dat"
      for fanout in $MUC_FANOUTS; do
        rate=$(echo "scale=2; $fanout / ($size - 1)" | bc)
        out=$SCRATCH/$name.muc.$size.$fanout
        "$LOAD" muc "${common[@]}" --users "$MUC_USERS" --room-size "$size" --rate "$rate" --duration "$DURATION" >"$out" 2>&1 || true
        log "$name: muc rooms of $size, offered $fanout deliveries/s ($rate msg/s): delivered $(value "$out" muc_fanout_per_s)/s p99 $(value "$out" muc_p99_ms) ms, $(value "$out" muc_cpu_us_per_delivery) µs CPU/delivery, $(value "$out" muc_occupants) occupants, $(value "$out" muc_join_failures) joins failed (load avg $(value "$out" loadavg))"
        local expected lost
        expected=$(value "$out" muc_expected); lost=$(value "$out" muc_lost); p99=$(value "$out" muc_p99_ms)
        [ -n "$PLOTS" ] && [ -n "$expected" ] && echo "$fanout $(value "$out" muc_fanout_per_s) $(value "$out" muc_p50_ms) $p99 $(value "$out" muc_p999_ms) $(value "$out" muc_cpu_us_per_delivery)" >>"$PLOTS/muc$size-$name.dat"
        if [ -n "$expected" ] && [ "$expected" != 0 ] && [ "$(echo "$lost * 100 < $expected && ${p99:-0} < $MAX_P99_MS" | bc)" = 1 ]; then best=$out; fi
      done
      if [ -n "$best" ]; then
        for f in fanout_per_s p99_ms cpu_us_per_delivery join_p50_ms; do FIG[$name.muc${size}_$f]=$(value "$best" "muc_$f"); done
      fi
    done
  fi

  stop_pid "$pid"
  [ "$name" = ejabberd ] && stop_epmd
  RAN+=("$name")
}
value() { { grep -h "^$2=" "$1" 2>/dev/null || true; } | tail -1 | cut -d= -f2; }   # empty when absent

RAN=()
for s in $SERVERS; do run_server "$s"; done

BASE_FIGURES="chat_msgs_per_s chat_p99_ms chat_cpu_us_per_msg idle_session_kib conn_setup_per_s"
FIGURES=$BASE_FIGURES
# With muc, its figures per room size follow the five: fan-out, p99 and CPU per delivery.
has muc && for size in $MUC_SIZES; do FIGURES+=" muc${size}_fanout_per_s muc${size}_p99_ms muc${size}_cpu_us_per_delivery"; done
lower_is_better() { case $1 in *_p99_ms|*_cpu_us_*|idle_session_kib) return 0 ;; *) return 1 ;; esac; }

echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mode: $([ $QUICK = 1 ] && echo quick || echo full), $TLS, scenarios: $SCENARIOS; storm $STORM_USERS users, chat $CHAT_USERS users at $RATES msg/s offered for $DURATION s; presence $PRESENCE_USERS users x $CONTACTS contacts at $PRESENCE_RATE changes/s; muc $MUC_USERS users in rooms of $MUC_SIZES at $MUC_FANOUTS deliveries/s offered"
printf '%-28s' figure; for s in "${RAN[@]}"; do printf '%14s' "$s"; done; echo
for f in $BASE_FIGURES chat_p50_ms chat_p999_ms load_cpu_us_per_msg conn_server_cpu_ms conn_load_cpu_ms conn_failures sasl_mechanism startup_s \
    storm_sessions rss_mib_at_1000 rss_mib_at_10000 rss_mib_at_50000 rss_mib_at_all \
    presence_delivered_per_s presence_p99_ms presence_cpu_us_per_stanza presence_mutual_contacts_avg login_p50_ms login_p99_ms \
    $(for size in ${MUC_SIZES:-}; do echo "muc${size}_fanout_per_s muc${size}_p99_ms muc${size}_cpu_us_per_delivery muc${size}_join_p50_ms"; done); do
  row=""; for s in "${RAN[@]}"; do row+=${FIG[$s.$f]:-}; done
  [ -z "$row" ] && continue   # a scenario that did not run
  printf '%-28s' "$f"; for s in "${RAN[@]}"; do printf '%14s' "${FIG[$s.$f]:--}"; done; echo
done
printf '%-28s' "load avg (storm/chat)"; for s in "${RAN[@]}"; do printf '%14s' "${FIG[$s.storm_load]:--}/${FIG[$s.loadavg]:--}"; done; echo
echo
for f in $FIGURES; do
  p=${FIG[parley.$f]:-}
  best=""
  for s in "${RAN[@]}"; do
    [ "$s" = parley ] && continue
    v=${FIG[$s.$f]:-}; [ -z "$v" ] && continue
    # A runtime that returned memory between the two readings gives no figure, not a negative one.
    if [ "$f" = idle_session_kib ] && [ "$(echo "$v <= 0" | bc)" = 1 ]; then
      echo "note: $s's idle_session_kib ($v) is not positive: its memory moved by less than its noise; raise STORM_USERS" >&2
      continue
    fi
    if [ -z "$best" ]; then best=$v
    elif lower_is_better "$f"; then [ "$(echo "$v < $best" | bc)" = 1 ] && best=$v
    else [ "$(echo "$v > $best" | bc)" = 1 ] && best=$v; fi
  done
  ratio=-
  if [ -n "$p" ] && [ -n "$best" ] && [ "$(echo "$best != 0" | bc)" = 1 ]; then ratio=$(echo "scale=3; $p / $best" | bc); fi
  echo "$f parley=${p:--} best_peer=${best:--} ratio=$ratio"
done
# One set of plots per kind of traffic that ran: chat, and muc<size> for each room size.
KINDS=""; has chat && KINDS="chat"; has muc && for size in $MUC_SIZES; do KINDS+=" muc$size"; done
for kind in $KINDS; do
  [ -n "$PLOTS" ] && [ ${#RAN[@]} -gt 0 ] || break
  plotted=""; for s in "${RAN[@]}"; do [ -s "$PLOTS/$kind-$s.dat" ] && plotted+="$s "; done
  [ -z "$plotted" ] && continue
  if command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$PLOTS'; kind='$kind'; servers='${plotted% }'" "$ROOT/bench/load/plot.gp" && echo "plots: $PLOTS/$kind-throughput.svg $kind-latency.svg $kind-cpu.svg" >&2
  else
    echo "plots: data in $PLOTS (apt-get install gnuplot-nox to draw them)" >&2
  fi
done
