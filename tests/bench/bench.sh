#!/usr/bin/env bash
# bench.sh — `make bench`: performance figures, printed; never pass/fail.
#
# API: wrk over HTTPS with keep-alive against GET /api/mailboxes (20
# mailboxes, API key auth) and, in the same run, against nginx serving the
# same bytes as a static file; prints req/s, p50/p99 latency and the ratio.
# Ingest: tests/bench/ingest.py (10,000 messages through the scanner).
# Fleet: tests/bench/fleet.py (1,000 mailboxes, 150 ms Graph latency, mail
# arriving at 5/s for 3 minutes, the cron line; docs/scaling.md "The fleet
# benchmark").
#
# Environment: BENCH_SECONDS (10; with BENCH_ONLY=fleet the arrival window,
# 180), BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_ONLY=api|ingest|fleet|push
# (push: tests/bench/push.py, only on request);
# the fleet's BENCH_MAILBOXES, BENCH_RATE, BENCH_LATENCY_MS and the others
# tests/bench/fleet.py lists.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SECONDS_=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
TMP=$(mktemp -d /tmp/pdbench.XXXXXX)
chmod 711 "$TMP" # as root the stack's programs run as postdesk, nginx's as www-data
cpu_ticks() {
	local t=0 p f
	for p in "$@"; do
		read -ra f <"/proc/$p/stat" || continue
		# fields after the ")" of comm: utime is 14th, stime 15th overall
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export POSTDESK_VAR=$TMP/var POSTDESK_RUN=/tmp/pdb-$$ POSTDESK_BIN=$ROOT/build
export POSTDESK_HTTPS_PORT=$(free_port) POSTDESK_HTTP_PORT=$(free_port)
export POSTDESK_PORTAL_ROOT=$TMP/portal POSTDESK_SCANNER=0
cleanup() { "$ROOT/scripts/stack.sh" stop >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT

api_bench() {
	cp -R "$ROOT/nginx/portal" "$POSTDESK_PORTAL_ROOT"
	"$ROOT/scripts/stack.sh" start >"$TMP/start.log" 2>&1 || { cat "$TMP/start.log"; exit 1; }
	local base=https://localhost:$POSTDESK_HTTPS_PORT key
	key=$(POSTDESK_CONF=$POSTDESK_VAR/postdesk.conf "$ROOT/build/postdesk-admin" create-api-key bench)
	local curl=(curl -sS --fail --cacert "$POSTDESK_VAR/tls/cert.pem" -H "Authorization: Bearer $key")
	for i in $(seq 1 20); do
		"${curl[@]}" -o /dev/null -H 'Content-Type: application/json' \
			-d "{\"name\":\"Mailbox $i\",\"client_id\":\"0b5e9e3c-1a2b-4c3d-8e9f-0123456789ab\",\"tenant_id\":\"contoso.onmicrosoft.com\",\"secret\":\"bench~secret.value-$i-abcdefghij\",\"shared_address\":\"help$i@contoso.com\"}" \
			"$base/api/mailboxes"
	done
	"${curl[@]}" -o "$POSTDESK_PORTAL_ROOT/bench-mailboxes.json" "$base/api/mailboxes"
	local bytes
	bytes=$(wc -c <"$POSTDESK_PORTAL_ROOT/bench-mailboxes.json")
	echo "API benchmark: $THREADS threads, $CONNS connections, ${SECONDS_}s each, $bytes-byte answer"
	wrk -t"$THREADS" -c"$CONNS" -d2s -H "Authorization: Bearer $key" "$base/api/mailboxes" >/dev/null
	# CPU each part of the stack spends per request (utime + stime ticks)
	local run=$POSTDESK_RUN api db ng a0 d0 n0
	api=$(cat "$run/api.pid") db=$(cat "$run/mariadb.pid") ng=$(pgrep -g "$(cat "$run/nginx.pid")")
	a0=$(cpu_ticks $api) d0=$(cpu_ticks $db) n0=$(cpu_ticks $ng)
	wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --latency -H "Authorization: Bearer $key" \
		"$base/api/mailboxes" >"$TMP/api.txt"
	echo "$(($(cpu_ticks $api) - a0)) $(($(cpu_ticks $db) - d0)) $(($(cpu_ticks $ng) - n0))" >"$TMP/cpu.txt"
	wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --latency "$base/bench-mailboxes.json" >"$TMP/static.txt"
	/usr/bin/python3 - "$TMP/api.txt" "$TMP/static.txt" "$TMP/cpu.txt" "$(getconf CLK_TCK)" <<'EOF'
import re, sys
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", t, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, lat.get("50"), lat.get("99"), int(errors.group(1)) if errors else 0
api, static = parse(sys.argv[1]), parse(sys.argv[2])
for name, (rps, p50, p99, bad) in (("GET /api/mailboxes", api), ("static same bytes", static)):
    print(f"  {name:20s} {rps:10.0f} req/s   p50 {p50:>8s}   p99 {p99:>8s}   non-2xx {bad}")
print(f"  ratio api/static     {api[0] / static[0]:10.3f}   (goal >= 0.17)")
total = int(re.search(r"(\d+) requests in", open(sys.argv[1]).read()).group(1))
ticks = [int(x) for x in open(sys.argv[3]).read().split()]
us = [t * 1e6 / int(sys.argv[4]) / total for t in ticks]
print("  CPU per API request: worker %.0f us, MariaDB %.0f us, nginx %.0f us" % tuple(us))
EOF
	"$ROOT/scripts/stack.sh" stop >/dev/null
}

case ${BENCH_ONLY:-all} in
api) api_bench ;;
ingest) /usr/bin/python3 "$ROOT/tests/bench/ingest.py" ;;
fleet) /usr/bin/python3 "$ROOT/tests/bench/fleet.py" ;;
push) /usr/bin/python3 "$ROOT/tests/bench/push.py" ;; # docs/push.md
*)
	api_bench
	if [[ -f $ROOT/tests/bench/ingest.py ]]; then
		/usr/bin/python3 "$ROOT/tests/bench/ingest.py"
	fi
	# BENCH_SECONDS above is wrk's; the fleet keeps its own 3 minutes
	env -u BENCH_SECONDS /usr/bin/python3 "$ROOT/tests/bench/fleet.py"
	;;
esac
