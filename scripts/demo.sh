#!/usr/bin/env bash
# demo.sh — postdesk without Azure: the local stack against the fake Microsoft
# cloud of tests/fakes/fake_microsoft.py, a connected demo mailbox and
# made-up mail arriving every few seconds (make demo). Ctrl-C stops it all.
#
#   POSTDESK_VAR            state (default <checkout>/var/demo, apart from
#                           make run's var/); a second run reuses it
#   POSTDESK_RUN, POSTDESK_BIN, POSTDESK_HTTPS_PORT, POSTDESK_HTTP_PORT, …
#                           as for scripts/stack.sh
#   POSTDESK_DEMO_INTERVAL  seconds between two mails (5)
#   POSTDESK_DEMO_FAKE_PORT the fake's port (default: any free one)
#
# The fake keeps everything in memory, so every start gives it the demo
# tenant again (same ids, kept in $POSTDESK_VAR/demo.json) and connects the
# mailbox again through the fake's sign-in and postdesk-oauth's callback
# (scripts/demo_feed.py seed, connect). The scanner's first try with the
# last run's token is refused (its log says so) until the mailbox is
# connected again.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export POSTDESK_VAR=${POSTDESK_VAR:-$ROOT/var/demo}
VAR=$(realpath -m "$POSTDESK_VAR")
BIN=$(realpath -m "${POSTDESK_BIN:-$ROOT/build}")
PORTAL_URL=https://localhost:${POSTDESK_HTTPS_PORT:-8443}
INTERVAL=${POSTDESK_DEMO_INTERVAL:-5}
PY=/usr/bin/python3
LOG=$VAR/log
STACK=$ROOT/scripts/stack.sh
FEED=$ROOT/scripts/demo_feed.py

FAKE_PID='' FEED_PID='' STACK_UP=0

say() { printf '%s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

# stop_pid PID: TERM, wait up to 10 s, then KILL.
stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	trap - INT TERM EXIT
	say ""
	say "demo: stopping"
	stop_pid "$FEED_PID"
	if ((STACK_UP)); then "$STACK" stop || true; fi
	stop_pid "$FAKE_PID"
	rm -f "$VAR/demo.pids"
	say "demo: stopped (state kept in $VAR; make demo starts it again)"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

[[ -x $PY ]] || die "$PY not found (Debian's python3)"
mkdir -p "$VAR" "$LOG" # their modes are scripts/stack.sh's to set
# One demo per state directory; what it starts does not inherit the lock
# (9>&-), so a demo killed with -9 leaves no lock behind.
exec 9>"$VAR/demo.lock"
flock -n 9 || {
	trap - EXIT
	die "a demo already runs with $VAR"
}

# The fake and the feeder of a demo killed with -9 outlive it; both name
# $VAR in their command line.
if [[ -s $VAR/demo.pids ]]; then
	for pid in $(<"$VAR/demo.pids"); do
		[[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
			grep -qF -- "$VAR/" && stop_pid "$pid"
	done
	rm -f "$VAR/demo.pids"
fi

# --- the fake Microsoft cloud -------------------------------------------------
# Started with & by a script, it ignores SIGINT: Ctrl-C reaches this script,
# which stops everything in order.
rm -f "$VAR/fake.port"
"$PY" "$ROOT/tests/fakes/fake_microsoft.py" --port "${POSTDESK_DEMO_FAKE_PORT:-0}" \
	--port-file "$VAR/fake.port" </dev/null >>"$LOG/fake-microsoft.log" 2>&1 9>&- &
FAKE_PID=$!
echo "$FAKE_PID" >"$VAR/demo.pids"
for ((i = 0; i < 100; i++)); do
	[[ -s $VAR/fake.port ]] && break
	kill -0 "$FAKE_PID" 2>/dev/null || die "the fake Microsoft cloud did not start:
$(tail -n 5 "$LOG/fake-microsoft.log")"
	sleep 0.1
done
[[ -s $VAR/fake.port ]] || die "the fake Microsoft cloud did not start within 10 s"
FAKE_URL=http://127.0.0.1:$(<"$VAR/fake.port")
FEED_ARGS=(--fake "$FAKE_URL" --portal "$PORTAL_URL" --cacert "$VAR/tls/cert.pem"
	--state "$VAR/demo.json")
"$PY" "$FEED" seed "${FEED_ARGS[@]}" || die "the demo tenant could not be set up at the fake"

# --- the stack, pointed at the fake --------------------------------------------
export POSTDESK_LOGIN_URL=$FAKE_URL POSTDESK_GRAPH_URL=$FAKE_URL POSTDESK_SCANNER=1
STACK_UP=1
say "demo: starting postdesk in $VAR (the first start takes a little longer)"
# A stack left running by a demo killed with -9 talks to a fake that is gone.
"$STACK" stop >/dev/null 2>&1 9>&- || true
"$STACK" start >"$LOG/demo-stack.out" 2>&1 9>&- || {
	cat "$LOG/demo-stack.out" >&2
	die "the stack did not start"
}

admin() { POSTDESK_CONF=$VAR/postdesk.conf "$BIN/postdesk-admin" "$@"; }

# The admin login: stack.sh prints the password on the first start only; the
# demo keeps it (a made-up admin of a made-up desk) to show it every time.
if [[ ! -s $VAR/demo-admin ]]; then
	pw=$(sed -n 's/^ *\* *password: *//p' "$LOG/demo-stack.out")
	if [[ -z $pw ]]; then
		pw=$(openssl rand -hex 12)
		printf '%s\n' "$pw" | admin reset-password admin >/dev/null
	fi
	(umask 077 && printf '%s\n' "$pw" >"$VAR/demo-admin")
fi
ADMIN_PW=$(<"$VAR/demo-admin")

if [[ ! -s $VAR/demo.key ]]; then
	key=$(admin create-api-key demo-feeder --role admin)
	(umask 077 && printf '%s\n' "$key" >"$VAR/demo.key")
fi
export POSTDESK_DEMO_KEY
POSTDESK_DEMO_KEY=$(<"$VAR/demo.key")

"$PY" "$FEED" connect "${FEED_ARGS[@]}" || die "connecting the demo mailbox failed (logs: $LOG/)"

"$PY" "$FEED" feed "${FEED_ARGS[@]}" --interval "$INTERVAL" </dev/null 9>&- &
FEED_PID=$!
echo "$FAKE_PID $FEED_PID" >"$VAR/demo.pids"

cat <<-EOF

	==========================================================================
	  postdesk DEMO: a FAKE Microsoft cloud, made-up mail, no Azure needed.
	  Nothing here talks to Microsoft; the tenant, people and mail are invented.

	  portal:   $PORTAL_URL/   (self-signed certificate: accept it once)
	  login:    admin / $ADMIN_PW
	  mailbox:  "Demo Support" <support@contoso.example>, connected through
	            the fake's sign-in; the scanner takes mail in every few seconds
	  mail:     a new mail every ${INTERVAL} s; customers answer the acknowledgements;
	            Jonas is out of office: his auto-replies are caught, not answered
	  fake:     $FAKE_URL   (tests/fakes/README.md)
	  logs:     $LOG/
	  state:    $VAR   (make demo again reuses it; delete it to start afresh)
	  stop:     Ctrl-C
	==========================================================================

EOF

# Watch: the feeder and the fake must stay up; the stack reports itself.
while kill -0 "$FEED_PID" 2>/dev/null && kill -0 "$FAKE_PID" 2>/dev/null; do
	sleep 1 9>&- &
	wait $! || true
done
die "the feeder or the fake stopped; see $LOG/fake-microsoft.log"
