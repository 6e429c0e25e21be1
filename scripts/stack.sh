#!/usr/bin/env bash
# stack.sh — bring the local postdesk stack up and down.
#
#   scripts/stack.sh start    start MariaDB, the FastCGI programs and nginx
#   scripts/stack.sh stop     stop them (reverse order)
#   scripts/stack.sh run      start, stay in the foreground, Ctrl-C stops
#   scripts/stack.sh status   show what runs
#   scripts/stack.sh reopen-logs
#                             after renaming logs (logrotate): SIGHUP to the
#                             postdesk programs, nginx -s reopen
#   scripts/stack.sh db-stop | db-start
#                             stop/start only MariaDB of a running stack
#                             (tests use them: health must turn 503)
#
# Everything lives in private directories; nothing reads /etc/{mysql,nginx}:
#   POSTDESK_VAR   state: postdesk.conf secret.key db/ tls/ log/ nginx/
#                  (default <checkout>/var)
#   POSTDESK_RUN   sockets and pid files, short path
#                  (default /tmp/pd-<hash of POSTDESK_VAR>)
#   POSTDESK_BIN   the programs (default <checkout>/build)
#   POSTDESK_HTTPS_PORT (8443)  POSTDESK_HTTP_PORT (8080, redirects to HTTPS)
#   POSTDESK_DB_PORT    (unset: MariaDB listens on its socket only)
#   POSTDESK_WORKERS    postdesk-api processes (4)
#   POSTDESK_API_BACKENDS, POSTDESK_OAUTH_BACKENDS
#                       more FastCGI backends for nginx's upstreams, after
#                       this stack's own sockets: "host:port" or
#                       "unix:/path", separated by spaces or commas (other
#                       API hosts; docs/scaling.md "Several hosts")
#   POSTDESK_PORTAL_ROOT  the static portal (<checkout>/nginx/portal)
#   POSTDESK_SCANNER    1 (default): start and stop the scanner with the
#                       stack (postdesk-scan --loop); 0: leave it to the
#                       caller (cron, or the tests, which run it themselves)
# Other POSTDESK_* variables (e.g. POSTDESK_LOGIN_URL) reach the programs
# unchanged and override postdesk.conf there.
#
# Started as root, the stack runs the FastCGI workers and the scanner as the
# system user postdesk (created when missing) and nginx's workers as
# www-data; postdesk.conf and secret.key are 0640 root:postdesk and the
# sockets postdesk:www-data 0660, as in production (README "Running
# unprivileged"). Started by anyone else, everything runs as that user.
#
# Every daemon is a process-group leader (mariadbd under setsid, spawn-fcgi
# children setsid, nginx setsids when it daemonizes), so a pid from a pid file
# is also a process-group id: stop signals the leader, then KILLs whatever is
# left in its group, which also catches workers orphaned by a kill -9.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=$(realpath -m "${POSTDESK_VAR:-$ROOT/var}")
RUN=$(realpath -m "${POSTDESK_RUN:-/tmp/pd-$(printf '%s' "$VAR" | sha256sum | cut -c1-10)}")
BIN=$(realpath -m "${POSTDESK_BIN:-$ROOT/build}")
HTTPS_PORT=${POSTDESK_HTTPS_PORT:-8443}
HTTP_PORT=${POSTDESK_HTTP_PORT:-8080}
DB_PORT=${POSTDESK_DB_PORT:-}
WORKERS=${POSTDESK_WORKERS:-4}
API_BACKENDS=${POSTDESK_API_BACKENDS:-}
OAUTH_BACKENDS=${POSTDESK_OAUTH_BACKENDS:-}
PORTAL_ROOT=$(realpath -m "${POSTDESK_PORTAL_ROOT:-$ROOT/nginx/portal}")

CONF=$VAR/postdesk.conf
LOG=$VAR/log
TLS=$VAR/tls
NGX=$VAR/nginx
DB_SOCK=$RUN/mysql.sock
PORTAL_URL=https://localhost:$HTTPS_PORT

# Service name -> the comm (process name) its processes have. A pid from a
# pid file is only signalled when its process still has this name, so a
# recycled pid (stale pid file after a reboot) is never touched.
declare -A COMM=([nginx]=nginx [oauth]=postdesk-oauth [api]=postdesk-api [mariadb]=mariadbd
	[scanner]=postdesk-scan)
SERVICES_UP=(mariadb api oauth nginx) # start order; stop is the reverse
# The scanner (postdesk-scan --loop, in place of cron) runs with `start` and
# `run` unless POSTDESK_SCANNER=0; tests run it themselves.
SCANNER=${POSTDESK_SCANNER:-1}
[[ $SCANNER =~ ^[01]$ ]] || {
	echo "stack: POSTDESK_SCANNER=$SCANNER: use 1 (start the scanner) or 0" >&2
	exit 2
}
((SCANNER)) && SERVICES_UP+=(scanner)

# Who runs what. As root: PD_USER (the FastCGI workers, the scanner) and
# WEB_USER (nginx's workers; WEB_GROUP may use the FastCGI sockets).
# Otherwise PD_USER is empty and the programs run as the caller.
if ((EUID == 0)); then
	PD_USER=postdesk PD_GROUP=postdesk WEB_USER=www-data WEB_GROUP=www-data
else
	PD_USER='' PD_GROUP='' WEB_USER=$(id -un) WEB_GROUP=$(id -gn)
fi
# The log files PD_USER's programs append to: created here, owned by it,
# so root (postdesk-admin, the tests' postdesk-scan) appends to them too.
PD_LOGS=(postdesk-api.log postdesk-oauth.log postdesk-scan.log)

# Clients must skip /etc/mysql too: --no-defaults has to come first.
MARIADB=(mariadb --no-defaults "--socket=$DB_SOCK" -uroot)
MARIADB_ADMIN=(mariadb-admin --no-defaults "--socket=$DB_SOCK" -uroot --connect-timeout=2)

say() { printf '%s\n' "$*"; }
die() {
	printf 'stack: %s\n' "$*" >&2
	exit 1
}

# now_ms: milliseconds since the epoch (EPOCHREALTIME has 6 decimals; its
# separator follows the locale, so keep the digits only).
now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}

# --- processes -----------------------------------------------------------

# proc_info PID -> sets P_STATE, P_PGRP, P_COMM; returns 1 if there is no such
# process. Parses /proc/PID/stat after the last ')' (comm may hold spaces).
proc_info() {
	local line
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	P_COMM=${line#*(}
	P_COMM=${P_COMM%)*}
	local rest=${line##*) } _ppid
	read -r P_STATE _ppid P_PGRP _ <<<"$rest"
}

# alive PID: the process exists and is not a zombie. PID 1 here reaps orphans
# only about once a second; kill -0 succeeds on zombies, so it is not used.
alive() {
	[[ $1 =~ ^[0-9]+$ ]] && proc_info "$1" && [[ $P_STATE != Z ]]
}

# group_members PGID COMM -> live (non-zombie) pids in process group PGID
# whose name is COMM.
group_members() {
	local p found=()
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		proc_info "$p" || continue
		[[ $P_PGRP == "$1" && $P_STATE != Z && $P_COMM == "$2" ]] && found+=("$p")
	done
	((${#found[@]})) && printf '%s\n' "${found[@]}"
	return 0
}

# pids_of SERVICE -> the pids in its pid file (spawn-fcgi lists one per
# worker with no trailing newline, so no "while read").
pids_of() {
	local f=$RUN/$1.pid
	[[ -s $f ]] || return 0
	local p
	for p in $(cat "$f" 2>/dev/null); do
		[[ $p =~ ^[0-9]+$ ]] && printf '%s\n' "$p"
	done
	return 0
}

# live_pids SERVICE -> pids from its pid file that are alive and still ours.
live_pids() {
	local p
	for p in $(pids_of "$1"); do
		if alive "$p" && [[ $P_COMM == "${COMM[$1]}" ]]; then
			printf '%s\n' "$p"
		fi
	done
	return 0
}

# stop_service SERVICE SIGNAL: signal every leader in the pid file, wait up
# to 10 s for their groups to empty, then KILL what is left of each group.
stop_service() {
	local svc=$1 sig=$2 comm=${COMM[$1]} g p groups left i
	groups=$(pids_of "$svc")
	[[ -n $groups ]] || {
		rm -f "$RUN/$svc.pid"
		return 0
	}
	for g in $groups; do
		if alive "$g" && [[ $P_COMM == "$comm" ]]; then
			kill "-$sig" "$g" 2>/dev/null || true
		else
			# The leader is gone (kill -9, crash): nothing will shut
			# its orphans down in order, so kill them right away.
			for p in $(group_members "$g" "$comm"); do
				kill -KILL "$p" 2>/dev/null || true
			done
		fi
	done
	local deadline=$(($(now_ms) + 10000))
	while :; do
		left=
		for g in $groups; do
			left+=$(group_members "$g" "$comm")
		done
		[[ -z $left ]] && break
		(($(now_ms) < deadline)) || break
		sleep 0.05
	done
	if [[ -n $left ]]; then
		say "stack: $svc did not stop within 10 s; killing its process groups" >&2
		for g in $groups; do
			for p in $(group_members "$g" "$comm"); do
				kill -KILL "$p" 2>/dev/null || true
			done
		done
		for ((i = 0; i < 40; i++)); do
			left=
			for g in $groups; do left+=$(group_members "$g" "$comm"); done
			[[ -z $left ]] && break
			sleep 0.05
		done
	fi
	rm -f "$RUN/$svc.pid"
}

stop_all() {
	stop_service scanner TERM
	stop_service nginx QUIT
	stop_service oauth TERM
	stop_service api TERM
	stop_service mariadb TERM
	rm -f "$RUN/api.sock" "$RUN/oauth.sock" "$DB_SOCK" "$DB_SOCK.lock" "$RUN/metrics"
	rmdir "$RUN" 2>/dev/null || true
}

# --- checks --------------------------------------------------------------

port_free() {
	[[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

check_ports() {
	local p name
	for name in HTTPS_PORT HTTP_PORT ${DB_PORT:+DB_PORT}; do
		p=${!name}
		[[ $p =~ ^[0-9]+$ ]] || die "POSTDESK_$name=$p is not a port number"
		port_free "$p" || die "port $p (POSTDESK_$name) is already in use:
$(ss -Hltnp "sport = :$p" 2>/dev/null)
Stop whatever uses it, or choose another port: POSTDESK_$name=NNNN $0 start"
	done
	[[ $HTTP_PORT != "$HTTPS_PORT" ]] || die "POSTDESK_HTTP_PORT and POSTDESK_HTTPS_PORT are both $HTTP_PORT"
}

check_prereqs() {
	local c
	for c in mariadbd mariadb-install-db mariadb mariadb-admin nginx spawn-fcgi openssl curl ss; do
		command -v "$c" >/dev/null || die "$c not found; run scripts/deps.sh (make deps)"
	done
	local progs=(postdesk-api postdesk-oauth)
	((SCANNER)) && progs+=(postdesk-scan)
	for c in "${progs[@]}" postdesk-admin; do
		[[ -x $BIN/$c ]] || die "$BIN/$c missing; build it first (make all)"
	done
	# sun_path holds 107 bytes; keep well below.
	((${#DB_SOCK} < 100)) || die "POSTDESK_RUN=$RUN is too long for unix sockets; use a shorter path"
	[[ -n $PD_USER ]] || return 0
	for c in setpriv adduser addgroup; do
		command -v "$c" >/dev/null || die "$c not found; run scripts/deps.sh (make deps)"
	done
	getent passwd "$WEB_USER" >/dev/null || die "user $WEB_USER (nginx's workers) does not exist"
	ensure_system_user
	for c in "${progs[@]}"; do
		need "$PD_USER" -x "$BIN/$c" "the program $c"
	done
	need "$WEB_USER" -r "$PORTAL_ROOT/index.html" "the portal"
}

# --- the unprivileged users (as root only) -------------------------------

# ensure_system_user: the system user and group PD_USER, as a Debian
# package would make them. Stacks starting at the same time may race: what
# one of them created is fine for the other.
ensure_system_user() {
	local i
	for ((i = 0; i < 5; i++)); do
		getent group "$PD_GROUP" >/dev/null ||
			addgroup --system --quiet "$PD_GROUP" >/dev/null 2>&1 || true
		getent passwd "$PD_USER" >/dev/null ||
			adduser --system --quiet --ingroup "$PD_GROUP" --no-create-home \
				--home /nonexistent --disabled-login "$PD_USER" >/dev/null 2>&1 || true
		getent passwd "$PD_USER" >/dev/null && getent group "$PD_GROUP" >/dev/null && return 0
		sleep 0.2
	done
	die "could not create the system user $PD_USER (adduser --system --group $PD_USER)"
}

# as_user USER CMD...: run CMD as USER with its groups.
as_user() {
	local user=$1
	shift
	setpriv --reuid "$user" --regid "$(id -g "$user")" --init-groups -- "$@"
}

# blocker USER PATH -> the first directory on PATH (itself included) that
# USER cannot search, as "DIR (drwx------ root:root)"; nothing if none.
blocker() {
	local user=$1 dir='' part parts
	IFS=/ read -ra parts <<<"${2#/}"
	for part in "${parts[@]}"; do
		dir+=/$part
		[[ -d $dir ]] || return 0
		as_user "$user" test -x "$dir" || {
			stat -c '%n (%A %U:%G)' "$dir"
			return 0
		}
	done
}

# need USER TEST PATH WHAT: unless USER passes `test TEST PATH`, stop and
# say what to change.
need() {
	local user=$1 t=$2 path=$3 what=$4 b
	as_user "$user" test "$t" "$path" && return 0
	b=$(blocker "$user" "$path")
	if [[ -n $b ]]; then
		die "user $user cannot reach $what ($path): $b is not searchable by it.
Let others search that directory (chmod o+x, e.g. chmod 711), or keep the checkout,
POSTDESK_VAR and POSTDESK_BIN under directories others can search (e.g. /srv, /opt, /tmp)."
	fi
	die "user $user cannot use $what ($path, $(stat -c '%A %U:%G' "$path" 2>/dev/null || echo missing))"
}

# secret_mode FILE: who may read a file of secrets (postdesk.conf,
# secret.key): 0640 root:PD_GROUP as root, else the caller alone.
secret_mode() {
	if [[ -n $PD_USER ]]; then
		chown "root:$PD_GROUP" "$1"
		chmod 0640 "$1"
	else
		chmod 0600 "$1"
	fi
}

# --- first-time state ----------------------------------------------------

# conf_get KEY -> value from postdesk.conf ("key = value" lines).
conf_get() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONF" | tail -n 1
}

# conf_set KEY VALUE: rewrite that line (or append it).
conf_set() {
	local tmp=$CONF.tmp
	# Private from the start: it holds db_password (secret_mode opens it
	# to the group only once it is whole).
	rm -f "$tmp"
	(umask 077 && : >"$tmp")
	if grep -q "^[[:space:]]*$1[[:space:]]*=" "$CONF"; then
		awk -v k="$1" -v v="$2" '
			$0 ~ "^[[:space:]]*" k "[[:space:]]*=" { print k " = " v; next }
			{ print }' "$CONF" >"$tmp"
	else
		{ cat "$CONF"; printf '%s = %s\n' "$1" "$2"; } >"$tmp"
	fi
	secret_mode "$tmp"
	mv -f "$tmp" "$CONF"
}

init_state() {
	mkdir -p "$VAR" "$LOG" "$TLS" "$NGX"/tmp "$RUN"
	if [[ -n $PD_USER ]]; then
		# Searchable, not listable: PD_USER reaches postdesk.conf,
		# secret.key, its logs and the sockets, nginx's workers their
		# temp dir and the sockets; each file keeps its own mode.
		chmod 0711 "$VAR" "$RUN"
		chown root:root "$NGX" "$NGX/tmp"
		chmod 0755 "$NGX" "$NGX/tmp"
		# The log dir also holds root's nginx and MariaDB logs: group
		# postdesk may create files (a log reopened after a rotation,
		# SIGHUP) but, sticky, not remove or rename root's.
		chown "root:$PD_GROUP" "$LOG"
		chmod 1775 "$LOG"
		local f
		for f in "${PD_LOGS[@]}"; do
			: >>"$LOG/$f"
			chown "$PD_USER:$PD_GROUP" "$LOG/$f"
			chmod 0640 "$LOG/$f"
		done
		# The workers' request counters (metrics_file): RUN is root's.
		: >>"$RUN/metrics"
		chown "$PD_USER:$PD_GROUP" "$RUN/metrics"
		chmod 0640 "$RUN/metrics"
	else
		chmod 0700 "$VAR" "$RUN"
	fi

	if [[ ! -s $VAR/secret.key ]]; then
		(umask 077 && head -c 32 /dev/urandom >"$VAR/secret.key.tmp")
		mv -f "$VAR/secret.key.tmp" "$VAR/secret.key"
		say "created $VAR/secret.key"
	fi
	secret_mode "$VAR/secret.key"

	if [[ ! -s $TLS/cert.pem || ! -s $TLS/key.pem ]]; then
		(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 3650 -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>"$LOG/openssl.err") ||
			die "openssl failed: $(cat "$LOG/openssl.err")"
		chmod 0644 "$TLS/cert.pem"
		rm -f "$LOG/openssl.err"
		say "created a self-signed certificate: $TLS/cert.pem"
	fi

	if [[ ! -s $CONF ]]; then
		local pw
		pw=$(openssl rand -hex 24)
		(
			umask 077
			cat >"$CONF.tmp" <<-CONF
				# postdesk.conf for the local stack, written by scripts/stack.sh.
				# portal_url, db_socket and metrics_file are rewritten on every start. log_file
				# is stderr here (not the install's default): the stack gives
				# each program its own log through POSTDESK_LOG_FILE.
				log_file =
				portal_url = $PORTAL_URL
				db_socket = $DB_SOCK
				db_name = postdesk
				db_user = postdesk
				db_password = $pw
				key_file = $VAR/secret.key
				sql_dir = $ROOT/sql
			CONF
		)
		mv -f "$CONF.tmp" "$CONF"
		say "created $CONF"
	fi
	# A configuration written before log_file was: stderr, as then.
	grep -q '^log_file[[:space:]]*=' "$CONF" || printf 'log_file =\n' >>"$CONF"
	secret_mode "$CONF"
	# Follow the current port and runtime dir.
	[[ $(conf_get portal_url) == "$PORTAL_URL" ]] || conf_set portal_url "$PORTAL_URL"
	[[ $(conf_get db_socket) == "$DB_SOCK" ]] || conf_set db_socket "$DB_SOCK"
	# The API workers' request counters (GET /api/metrics), beside the sockets.
	[[ $(conf_get metrics_file) == "$RUN/metrics" ]] || conf_set metrics_file "$RUN/metrics"
	[[ -n $PD_USER ]] || return 0
	need "$PD_USER" -r "$CONF" "the configuration"
	need "$PD_USER" -r "$(conf_get key_file)" "the key file"
	need "$PD_USER" -w "$LOG/${PD_LOGS[0]}" "its log"
	need "$PD_USER" -x "$RUN" "the runtime directory"
	need "$WEB_USER" -x "$RUN" "the runtime directory"
	need "$WEB_USER" -x "$NGX/tmp" "nginx's temporary directory"
}

# --- MariaDB -------------------------------------------------------------

start_mariadb() {
	if [[ ! -d $VAR/db/mysql ]]; then
		# Build the datadir aside and move it in, so an interrupted
		# install is never mistaken for a finished one.
		rm -rf "$VAR/db.new"
		mariadb-install-db --no-defaults --datadir="$VAR/db.new" --user=root \
			--auth-root-authentication-method=socket --skip-test-db \
			--innodb-log-file-size=16M >"$LOG/mariadb-install.log" 2>&1 ||
			die "mariadb-install-db failed; see $LOG/mariadb-install.log:
$(tail -n 20 "$LOG/mariadb-install.log")"
		rm -rf "$VAR/db"
		mv "$VAR/db.new" "$VAR/db"
		say "created a MariaDB datadir: $VAR/db"
	fi

	local net=(--skip-networking)
	[[ -n $DB_PORT ]] && net=("--port=$DB_PORT" --bind-address=127.0.0.1)
	local errlog=$LOG/mariadb.err
	: >>"$errlog"
	local before
	before=$(wc -l <"$errlog")

	# setsid: mariadbd leads its own group (bash puts background jobs in
	# the script's group, so setsid execs without forking: $! is mariadbd).
	setsid mariadbd --no-defaults --datadir="$VAR/db" --socket="$DB_SOCK" \
		--pid-file="$RUN/mariadb.pid" --log-error="$errlog" --user=root \
		"${net[@]}" --skip-name-resolve \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--innodb-log-file-size=16M --innodb-buffer-pool-size=64M \
		--max-allowed-packet=256M \
		</dev/null >>"$LOG/mariadbd.out" 2>&1 &
	local pid=$!
	# Our own record first: mariadbd writes the pid file only once up.
	printf '%s' "$pid" >"$RUN/mariadb.pid"
	local deadline=$(($(now_ms) + 30000))
	while (($(now_ms) < deadline)); do
		if "${MARIADB_ADMIN[@]}" ping >/dev/null 2>&1; then
			return 0
		fi
		if ! alive "$pid"; then
			tail -n +"$((before + 1))" "$errlog" | tail -n 25 >&2
			die "mariadbd exited during startup (log: $errlog)"
		fi
		sleep 0.05
	done
	tail -n 25 "$errlog" >&2
	die "mariadbd did not answer within 30 s (log: $errlog)"
}

# The database and the application user, as OS root over the socket.
setup_db() {
	local pw
	pw=$(conf_get db_password)
	[[ $pw =~ ^[A-Za-z0-9]+$ ]] || die "db_password in $CONF must be alphanumeric for this script"
	"${MARIADB[@]}" <<-SQL
		CREATE DATABASE IF NOT EXISTS postdesk CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS 'postdesk'@'localhost' IDENTIFIED BY '$pw';
		ALTER USER 'postdesk'@'localhost' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON postdesk.* TO 'postdesk'@'localhost';
		CREATE USER IF NOT EXISTS 'postdesk'@'127.0.0.1' IDENTIFIED BY '$pw';
		ALTER USER 'postdesk'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON postdesk.* TO 'postdesk'@'127.0.0.1';
	SQL
}

# admin ARGS...: run postdesk-admin; stderr is shown and kept in the log.
admin() {
	local err=$RUN/admin.err rc=0
	POSTDESK_CONF=$CONF "$BIN/postdesk-admin" "$@" 2>"$err" || rc=$?
	if [[ -s $err ]]; then
		cat "$err" >&2
		cat "$err" >>"$LOG/postdesk-admin.log"
	fi
	rm -f "$err"
	return "$rc"
}

# --- FastCGI programs and nginx ------------------------------------------

# start_fcgi SERVICE PROGRAM WORKERS
start_fcgi() {
	local svc=$1 prog=$2 n=$3 log=$LOG/$2.log
	# As root: the workers run as PD_USER (-u/-g); the socket is
	# PD_USER:WEB_GROUP 0660 (-U/-G/-M), so only they and nginx's workers
	# use it. Otherwise all of them run as the caller, who owns the socket.
	local who=()
	[[ -n $PD_USER ]] && who=(-u "$PD_USER" -g "$PD_GROUP" -U "$PD_USER" -G "$WEB_GROUP")
	rm -f "$RUN/$svc.sock"
	# spawn-fcgi points the children's stderr at /dev/null; the sh wrapper
	# sends it to the program's log instead (sanitizer reports land there),
	# then execs the program so the pid and name stay the program's.
	POSTDESK_CONF=$CONF POSTDESK_LOG_FILE=$log \
		spawn-fcgi -s "$RUN/$svc.sock" "${who[@]}" -M 0660 -F "$n" -P "$RUN/$svc.pid" -- \
		/bin/sh -c 'exec "$0" 2>>"$POSTDESK_LOG_FILE"' "$BIN/$prog" \
		>>"$LOG/spawn-fcgi.log" 2>&1 ||
		die "spawn-fcgi $prog failed: $(tail -n 5 "$LOG/spawn-fcgi.log")"
}

# backend_items NAME LIST -> "NAME+=BACKEND" for scripts/render.sh, one
# per backend of LIST (spaces or commas between them).
backend_items() {
	local b
	for b in ${2//,/ }; do
		[[ $b =~ ^(unix:/[^[:space:]\;{}]+|[A-Za-z0-9._-]+:[0-9]+)$ ]] ||
			die "backend '$b' (POSTDESK_${1}S): use host:port or unix:/path"
		printf '%s+=%s\n' "$1" "$b"
	done
}

# The files from their templates (scripts/render.sh): nginx.conf includes
# postdesk.conf, the locations production serves too, and upstream.conf,
# the backends: this stack's sockets first, then the other hosts'.
render_nginx() {
	local headers=$ROOT/nginx/postdesk-headers.conf items
	mkdir -p "$NGX/tmp"
	items=$(backend_items API_BACKEND "unix:$RUN/api.sock $API_BACKENDS")
	items+=$'\n'$(backend_items OAUTH_BACKEND "unix:$RUN/oauth.sock $OAUTH_BACKENDS")
	mapfile -t items <<<"$items"
	"$ROOT/scripts/render.sh" "$ROOT/nginx/postdesk-upstream.conf.in" \
		"$NGX/upstream.conf" "${items[@]}"
	"$ROOT/scripts/render.sh" "$ROOT/nginx/postdesk-snippet.conf.in" \
		"$NGX/postdesk.conf" RUN="$RUN" PORTAL_ROOT="$PORTAL_ROOT" \
		HEADERS="$headers"
	"$ROOT/scripts/render.sh" "$ROOT/nginx/nginx.conf.in" \
		"$NGX/nginx.conf" RUN="$RUN" NGINX_DIR="$NGX" LOG_DIR="$LOG" \
		TLS_DIR="$TLS" HEADERS="$headers" HTTP_PORT="$HTTP_PORT" \
		HTTPS_PORT="$HTTPS_PORT" USER="$WEB_USER $WEB_GROUP"
}

NGINX=(nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$LOG/nginx-error.log")

# The scanner loop leads its own process group, like every service here;
# as root it runs as PD_USER (setpriv execs it: $! stays its pid).
start_scanner() {
	local drop=()
	[[ -n $PD_USER ]] && drop=(setpriv --reuid "$PD_USER" --regid "$PD_GROUP" --init-groups --)
	POSTDESK_CONF=$CONF POSTDESK_LOG_FILE=$LOG/postdesk-scan.log \
		setsid "${drop[@]}" "$BIN/postdesk-scan" --loop </dev/null >>"$LOG/postdesk-scan.out" 2>&1 &
	printf '%s' "$!" >"$RUN/scanner.pid"
}

start_nginx() {
	render_nginx
	"${NGINX[@]}" -t -q 2>"$LOG/nginx-test.log" ||
		die "nginx -t failed for $NGX/nginx.conf:
$(cat "$LOG/nginx-test.log")"
	rm -f "$LOG/nginx-test.log"
	"${NGINX[@]}" 2>>"$LOG/nginx-error.log" ||
		die "nginx failed to start: $(tail -n 5 "$LOG/nginx-error.log")"
}

# wait_healthy: GET /api/health through nginx until it answers 200 (or 503
# with the database reachable: only mailboxes await a scan), up to 15 s.
wait_healthy() {
	local code=000 out=$RUN/health.out cerr=$RUN/health.err
	local deadline=$(($(now_ms) + 15000))
	while (($(now_ms) < deadline)); do
		code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 1 \
			--cacert "$TLS/cert.pem" "$PORTAL_URL/api/health" 2>"$cerr") || code=000
		if [[ $code == 200 ]]; then
			rm -f "$out" "$cerr"
			return 0
		fi
		# Up, but a mailbox that should be scanning is not (say, not
		# scanned for a while: the scanner was down with the rest): the
		# stack itself is fine.
		if [[ $code == 503 ]] && grep -q '"database":"ok"' "$out"; then
			say "stack: note: $(sed -e 's/.*"detail":"\([^"]*\)".*/\1/' "$out")"
			rm -f "$out" "$cerr"
			return 0
		fi
		sleep 0.05
	done
	say "stack: $PORTAL_URL/api/health answered $code (000 = no answer) for 15 s" >&2
	[[ -s $cerr ]] && say "  $(tail -n 1 "$cerr")" >&2
	[[ -s $out ]] && say "  body: $(head -c 500 "$out")" >&2
	rm -f "$out" "$cerr"
	local f
	for f in nginx-error.log postdesk-api.log; do
		[[ -s $LOG/$f ]] && { say "--- tail of $LOG/$f" >&2; tail -n 15 "$LOG/$f" >&2; }
	done
	die "the stack did not become healthy"
}

# --- commands ------------------------------------------------------------

# service_state SERVICE -> "up" (all pids alive), "down", or "partial".
service_state() {
	local all live
	all=$(pids_of "$1" | wc -l)
	live=$(live_pids "$1" | wc -l)
	if ((all > 0 && live == all)); then
		echo up
	elif ((live == 0)); then
		local g
		for g in $(pids_of "$1"); do
			if [[ -n $(group_members "$g" "${COMM[$1]}") ]]; then
				echo "stale (orphans of a dead $1; '$0 start' or 'stop' clears them)"
				return 0
			fi
		done
		echo down
	else
		echo partial
	fi
}

all_up() {
	local s
	for s in "${SERVICES_UP[@]}"; do
		[[ $(service_state "$s") == up ]] || return 1
	done
}

any_up() {
	local s
	for s in "${SERVICES_UP[@]}"; do
		[[ -n $(live_pids "$s") ]] && return 0
	done
	return 1
}

on_start_error() {
	trap - ERR EXIT
	say "stack: start failed (line $1); stopping what was started" >&2
	stop_all
	exit 1
}

cmd_start() {
	if all_up; then
		say "postdesk is already running ($PORTAL_URL); state: $VAR"
		return 0
	fi
	# Leftovers of a crashed run (kill -9, partial start): clear them,
	# including orphaned workers that still hold sockets and ports.
	if any_up || compgen -G "$RUN/*.pid" >/dev/null; then
		say "stack: cleaning up a previous run in $RUN"
		stop_all
	fi
	check_prereqs
	check_ports
	backend_items API_BACKEND "$API_BACKENDS" >/dev/null
	backend_items OAUTH_BACKEND "$OAUTH_BACKENDS" >/dev/null

	local t0=$EPOCHREALTIME
	trap 'on_start_error $LINENO' ERR
	# die exits through the ERR-less path; make it clean up as well.
	trap 'rc=$?; if ((rc != 0)); then trap - ERR EXIT; stop_all; fi' EXIT
	init_state
	start_mariadb
	setup_db
	admin migrate >/dev/null || die "postdesk-admin migrate failed"
	local boot
	boot=$(admin bootstrap-admin) || die "postdesk-admin bootstrap-admin failed"
	start_fcgi api postdesk-api "$WORKERS"
	start_fcgi oauth postdesk-oauth 2
	start_nginx
	wait_healthy
	if ((SCANNER)); then start_scanner; fi
	trap - ERR EXIT

	local took
	took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	say ""
	say "postdesk is running (started in ${took} s)"
	say "  portal:  $PORTAL_URL/   (http://localhost:$HTTP_PORT redirects)"
	say "  TLS:     self-signed; trust $TLS/cert.pem, e.g. curl --cacert $TLS/cert.pem"
	if [[ $boot =~ username=([^[:space:]]+)[[:space:]]+password=([^[:space:]]+) ]]; then
		local u=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]}
		say ""
		say "  ************************************************************"
		say "  *  First start: an administrator was created.              *"
		say "  *    username: $u"
		say "  *    password: $p"
		say "  *  Note it now; it is not shown again.                     *"
		say "  ************************************************************"
		say ""
	else
		say "  login:   as admin with the password shown on the first start, or reset it:"
		say "           POSTDESK_CONF=$CONF $BIN/postdesk-admin reset-password admin"
	fi
	say "  config:  $CONF"
	say "  logs:    $LOG/ (postdesk-api.log, postdesk-oauth.log, postdesk-scan.log, nginx-*.log, mariadb.err)"
	if [[ -n $PD_USER ]]; then
		say "  users:   FastCGI workers and scanner as $PD_USER, nginx workers as $WEB_USER,"
		say "           MariaDB and nginx's master as root; $CONF and"
		say "           secret.key are 0640 root:$PD_GROUP, the sockets $PD_USER:$WEB_GROUP 0660"
	else
		say "  users:   everything runs as $(id -un) (started as root, the programs run as postdesk)"
	fi
	if ((SCANNER)); then
		say "  scanner: postdesk-scan --loop${PD_USER:+ as $PD_USER} polls connected mailboxes every"
		say "           scan_interval seconds (default 5); log: $LOG/postdesk-scan.log"
	else
		say "  scanner: not started (POSTDESK_SCANNER=0): no mail is read until postdesk-scan"
		say "           runs (cron line: packaging/postdesk.cron.in)"
	fi
	say "  stop:    $0 stop   (state: POSTDESK_VAR=$VAR)"
}

cmd_stop() {
	if ! any_up && ! compgen -G "$RUN/*.pid" >/dev/null; then
		say "postdesk is not running (state: $VAR)"
		rm -f "$RUN/api.sock" "$RUN/oauth.sock" "$DB_SOCK"
		return 0
	fi
	local t0=$EPOCHREALTIME
	stop_all
	say "postdesk stopped ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s)"
}

# users_of SERVICE -> the user names its live processes run as, those of
# the processes in its groups too (nginx's workers).
users_of() {
	local g p u
	for g in $(live_pids "$1"); do
		for p in $(group_members "$g" "${COMM[$1]}"); do
			u=$(awk '/^Uid:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
			[[ -n $u ]] && id -nu "$u" 2>/dev/null
		done
	done | sort -u | tr '\n' ' '
}

cmd_status() {
	local s state who rc=0
	say "state: $VAR   runtime: $RUN"
	for s in mariadb api oauth nginx scanner; do
		# A stack started with POSTDESK_SCANNER=0 has no scanner pid file.
		if [[ $s == scanner && ! -e $RUN/scanner.pid ]] && any_up; then
			printf '  %-8s %-8s %s\n' "$s" off "(started with POSTDESK_SCANNER=0; cron or a test runs postdesk-scan)"
			continue
		fi
		state=$(service_state "$s")
		who=''
		if [[ $state == up ]]; then who="as $(users_of "$s")"; else rc=3; fi
		printf '  %-8s %-8s %s%s\n' "$s" "$state" "$(live_pids "$s" | tr '\n' ' ')" "$who"
	done
	if ((rc == 0)); then
		local code
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$TLS/cert.pem" \
			"$PORTAL_URL/api/health" 2>/dev/null) || code=000
		say "  health   $code  $PORTAL_URL/api/health"
	fi
	return "$rc"
}

cmd_run() {
	cmd_start
	local stopping=0
	trap 'stopping=1' INT TERM
	say ""
	say "running in the foreground; Ctrl-C stops the stack"
	declare -A dead=()
	local s
	while ((!stopping)); do
		for s in "${SERVICES_UP[@]}"; do
			if [[ -z ${dead[$s]:-} && $(service_state "$s") != up ]]; then
				dead[$s]=1
				say "stack: $(date +%T) $s is no longer (fully) running; see $LOG/" >&2
			fi
		done
		sleep 1 &
		wait $! || true
	done
	trap - INT TERM
	say ""
	cmd_stop
}

# reopen-logs: what logrotate's postrotate does in production
# (packaging/postdesk.logrotate.in), for this stack's processes only: each
# postdesk program reopens its log_file before its next line
# (lib/base/log.c), nginx reopens its logs.
cmd_reopen_logs() {
	local s p n=0
	for s in api oauth scanner; do
		for p in $(live_pids "$s"); do
			kill -HUP "$p" 2>/dev/null && n=$((n + 1))
		done
	done
	if [[ -n $(live_pids nginx) ]]; then
		"${NGINX[@]}" -s reopen 2>>"$LOG/nginx-error.log" && n=$((n + 1))
	fi
	say "reopened the logs of $n processes"
}

# db-stop/db-start: only MariaDB, for tests of the programs without it.
cmd_db_stop() {
	stop_service mariadb TERM
}
cmd_db_start() {
	[[ -n $(live_pids mariadb) ]] && return 0
	[[ -d $VAR/db/mysql ]] || die "no datadir in $VAR/db; use: $0 start"
	# After a stop the runtime dir is gone (a restore runs on MariaDB
	# alone); a running stack's keeps its mode (its sockets are reached
	# through it).
	if [[ ! -d $RUN ]]; then
		mkdir -p "$RUN"
		chmod 0700 "$RUN"
	fi
	if [[ -n $DB_PORT ]]; then
		port_free "$DB_PORT" || die "port $DB_PORT (POSTDESK_DB_PORT) is already in use"
	fi
	start_mariadb
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
run) cmd_run ;;
status) cmd_status ;;
reopen-logs) cmd_reopen_logs ;;
db-stop) cmd_db_stop ;;
db-start) cmd_db_start ;;
*)
	say "usage: $0 start|stop|run|status|reopen-logs|db-stop|db-start" >&2
	exit 2
	;;
esac
