#!/usr/bin/env bash
# The whole test suite, from a clean clone on Debian with the .NET SDK: installs what the tests need
# (Debian packages when run as root, NuGet packages by restore), builds everything, runs every test project
# including the interop tests against independent implementations, and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the interop tests drive. Their Python modules are seen only by /usr/bin/python3.
missing=()
/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || missing+=(python3-slixmpp)
# The client library's suite runs against Debian's prosody too (its own config and data, never the system instance).
[ -x /usr/bin/prosody ] || missing+=(prosody)
# Federation is tested against prosody and ejabberd (a private instance of each, never the system one).
[ -x /usr/sbin/ejabberdctl ] || missing+=(ejabberd)
# `parley chat` is tested as a person uses it: in a terminal that tmux drives.
[ -x /usr/bin/tmux ] || missing+=(tmux)
# npm's @xmpp/client (Node.js >= 20.10) talks to the WebSocket endpoint; the bundled web client is converse.js from npm.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# The web client is tested in Debian's chromium, driven by Playwright (which never downloads a browser).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# A real gateway (XEP-0114): biboumi, an XMPP–IRC gateway, with ngircd as the IRC server.
[ -x /usr/bin/biboumi ] || missing+=(biboumi)
[ -x /usr/sbin/ngircd ] || missing+=(ngircd)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    # The servers among them (prosody, ejabberd, ngircd) must not start as system services: the tests run private
    # instances on loopback, and a system one would hold 5222/5269 on every address. policy-rc.d says no (Debian's
    # invoke-rc.d convention) while the packages install.
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    if [ "$policy_added" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  else
    echo "test.sh: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# npm packages the interop tests drive, pinned by their package-lock.json.
(cd tests/Parley.Interop.Tests/xmppjs && npm ci --no-audit --no-fund --loglevel=error)
(cd web/chat && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore Parley.slnx
dotnet build Parley.slnx -c Release --no-restore

results=$(mktemp -d)
status=0
# A hung test fails the run after 5 minutes instead of holding CI until its limit.
dotnet test Parley.slnx -c Release --no-build --blame-hang-timeout 5m --logger "trx" --results-directory "$results" "$@" || status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get notExecuted)))
done
rm -rf "$results"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
