#!/usr/bin/env bash
# galera.sh — a private 3-node MariaDB Galera cluster on loopback.
#
#   scripts/galera.sh start         bootstrap node 1, join 2 and 3, wait until
#                                   wsrep_cluster_size=3 and every node Synced
#   scripts/galera.sh stop          stop the nodes (3, 2, then 1: node 1 stops
#                                   last, so it may bootstrap the next start)
#   scripts/galera.sh status        each node's state, size and address
#   scripts/galera.sh kill-node N   SIGKILL node N (1..3)
#   scripts/galera.sh start-node N  start node N, rejoin the running nodes
#                                   (IST, or SST by rsync) and wait for Synced
#   scripts/galera.sh setup-db PW   the postdesk database and user (password PW,
#                                   alphanumeric) on the cluster, like stack.sh
#   scripts/galera.sh sql N         a mariadb client as root on node N
#
# Everything lives in private directories; nothing reads /etc/mysql (each
# node gets its own generated my.cnf, which the SST scripts read as well):
#   POSTDESK_GALERA_DIR   datadirs, configs, logs (default <checkout>/var/galera)
#   POSTDESK_GALERA_RUN   sockets and pid files, short path
#                         (default /tmp/pdg-<hash of POSTDESK_GALERA_DIR>)
#   POSTDESK_GALERA_PORT  base port (default 24300). Node N (1..3) listens on
#                         127.0.0.1 only: SQL base+N, group communication
#                         base+10+N, IST base+20+N, rsync SST base+30+N.
#
# Started by root, mariadbd runs as the Debian package's "mysql" user (not as
# root like scripts/stack.sh: the rsync daemon of an SST run by root would
# drop to "nobody" and could not write the joiner's datadir); otherwise as the
# caller. Each mariadbd leads its own process group (setsid).
# This is a cluster for tests and development: for production see
# docs/scaling.md "MariaDB Galera".
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$(realpath -m "${POSTDESK_GALERA_DIR:-$ROOT/var/galera}")
RUN=$(realpath -m "${POSTDESK_GALERA_RUN:-/tmp/pdg-$(printf '%s' "$DIR" | sha256sum | cut -c1-10)}")
BASE=${POSTDESK_GALERA_PORT:-24300}
PROVIDER=/usr/lib/galera/libgalera_smm.so
NODES=(1 2 3)
if ((EUID == 0)); then DB_USER=mysql; else DB_USER=$(id -un); fi

say() { printf '%s\n' "$*"; }
die() {
	printf 'galera: %s\n' "$*" >&2
	exit 1
}

[[ $BASE =~ ^[0-9]+$ ]] && ((BASE > 1024 && BASE < 65000)) ||
	die "POSTDESK_GALERA_PORT=$BASE is not a usable base port"

now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}

sql_port() { echo $((BASE + $1)); }
gcomm_port() { echo $((BASE + 10 + $1)); }
ist_port() { echo $((BASE + 20 + $1)); }
sst_port() { echo $((BASE + 30 + $1)); }
sock() { echo "$RUN/n$1.sock"; }
ndir() { echo "$DIR/node$1"; }

client() { # client N ARGS...: root over node N's socket
	local n=$1
	shift
	mariadb --no-defaults "--socket=$(sock "$n")" -uroot --connect-timeout=2 "$@"
}

# status_of N -> "state size ready" (e.g. "Synced 3 ON"), empty if down.
status_of() {
	client "$1" -N -B -e "SELECT
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='wsrep_local_state_comment'),
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='wsrep_cluster_size'),
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='wsrep_ready')" \
		2>/dev/null | tr '\t' ' ' || true
}

# pid_of N -> the live mariadbd pid of node N, empty if none.
pid_of() {
	local f=$RUN/n$1.pid p comm
	[[ -s $f ]] || return 0
	p=$(<"$f")
	[[ $p =~ ^[0-9]+$ ]] || return 0
	comm=$(cat "/proc/$p/comm" 2>/dev/null) || return 0
	local state
	state=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || return 0
	[[ $comm == mariadbd && $state != Z ]] && echo "$p"
	return 0
}

check_node() {
	[[ $1 =~ ^[123]$ ]] || die "node must be 1, 2 or 3, not '$1'"
}

port_free() {
	[[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

write_cnf() {
	local n=$1 d
	d=$(ndir "$n")
	local peers="127.0.0.1:$(gcomm_port 1),127.0.0.1:$(gcomm_port 2),127.0.0.1:$(gcomm_port 3)"
	# Galera's failure detection keeps its defaults (a silent node is
	# suspected after 5 s): shorter timeouts split the cluster when a busy
	# machine delays a node's keepalives, e.g. a donor during an SST.
	cat >"$d/my.cnf" <<-CNF
		[mysqld]
		user = $DB_USER
		datadir = $d/data
		tmpdir = $d/tmp
		socket = $(sock "$n")
		pid-file = $RUN/n$n.pid.mariadbd
		log-error = $d/mariadb.err
		port = $(sql_port "$n")
		bind-address = 127.0.0.1
		skip-name-resolve
		character-set-server = utf8mb4
		collation-server = utf8mb4_unicode_ci
		innodb-log-file-size = 16M
		innodb-buffer-pool-size = 64M
		innodb-flush-log-at-trx-commit = 2
		max-allowed-packet = 256M
		binlog_format = ROW
		default_storage_engine = InnoDB
		innodb_autoinc_lock_mode = 2
		# sql/0011 creates triggers as the postdesk user, not SUPER
		log_bin_trust_function_creators = 1
		wsrep_on = ON
		wsrep_provider = $PROVIDER
		wsrep_cluster_name = postdesk-galera-$BASE
		wsrep_cluster_address = gcomm://$peers
		wsrep_node_name = node$n
		wsrep_node_address = 127.0.0.1:$(gcomm_port "$n")
		wsrep_node_incoming_address = 127.0.0.1:$(sql_port "$n")
		wsrep_sst_method = rsync
		wsrep_sst_receive_address = 127.0.0.1:$(sst_port "$n")
		wsrep_provider_options = "base_host=127.0.0.1;base_port=$(gcomm_port "$n");gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=32M"
		[client]
		socket = $(sock "$n")
		[sst]
		progress = 0
	CNF
}

install_node() {
	local n=$1 d
	d=$(ndir "$n")
	[[ -d $d/data/mysql ]] && return 0
	# A private tmpdir: temporary tables of other servers in /tmp must not
	# collide with ours (seen as "Could not remove temporary table").
	mkdir -p "$d/tmp"
	((EUID == 0)) && chown "$DB_USER:" "$d/tmp"
	rm -rf "$d/data.new"
	mariadb-install-db --no-defaults --datadir="$d/data.new" --user="$DB_USER" \
		--tmpdir="$d/tmp" \
		--auth-root-authentication-method=socket --skip-test-db \
		--innodb-log-file-size=16M >"$d/install.log" 2>&1 ||
		die "mariadb-install-db failed for node $n; see $d/install.log"
	rm -rf "$d/data"
	mv "$d/data.new" "$d/data"
	((EUID == 0)) && chown -R "$DB_USER:" "$d"
	return 0
}

# launch N [--wsrep-new-cluster]: start node N's mariadbd in the background.
launch() {
	local n=$1 d p
	shift
	d=$(ndir "$n")
	[[ -n $(pid_of "$n") ]] && die "node $n already runs (pid $(pid_of "$n"))"
	for p in $(sql_port "$n") $(gcomm_port "$n") $(ist_port "$n") $(sst_port "$n"); do
		port_free "$p" || die "port $p (node $n) is already in use; choose POSTDESK_GALERA_PORT"
	done
	mkdir -p "$RUN"
	chmod 0755 "$RUN"
	((EUID == 0)) && chown "$DB_USER:" "$RUN"
	install_node "$n"
	write_cnf "$n"
	: >>"$d/mariadb.err"
	((EUID == 0)) && chown "$DB_USER:" "$d/mariadb.err" "$d/my.cnf"
	setsid mariadbd --defaults-file="$d/my.cnf" "$@" </dev/null >>"$d/mariadbd.out" 2>&1 &
	printf '%s' "$!" >"$RUN/n$n.pid"
}

# wait_synced N SIZE [SECONDS]: until node N is Synced, ready, in a cluster
# of SIZE nodes.
wait_synced() {
	local n=$1 size=$2 secs=${3:-90} st
	local deadline=$(($(now_ms) + secs * 1000))
	while (($(now_ms) < deadline)); do
		st=$(status_of "$n")
		[[ $st == "Synced $size ON" ]] && return 0
		if [[ -z $(pid_of "$n") ]]; then
			tail -n 30 "$(ndir "$n")/mariadb.err" >&2
			die "node $n exited while starting (log: $(ndir "$n")/mariadb.err)"
		fi
		sleep 0.1
	done
	tail -n 30 "$(ndir "$n")/mariadb.err" >&2
	die "node $n not Synced in a cluster of $size within ${secs} s (now: ${st:-down})"
}

# The node to bootstrap from after a full stop: the one whose grastate.dat
# says safe_to_bootstrap: 1 (the last to stop cleanly). After a crash of all
# three none does; then node 1 is forced, which may lose its last
# transactions if another node was ahead: fine for a test cluster, never in
# production (docs/scaling.md).
bootstrap_node() {
	local n g
	for n in "${NODES[@]}"; do
		g=$(ndir "$n")/data/grastate.dat
		[[ -f $g ]] && grep -q '^safe_to_bootstrap: *1' "$g" && {
			echo "$n"
			return 0
		}
	done
	g=$(ndir 1)/data/grastate.dat
	[[ -f $g ]] && sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$g"
	echo 1
}

running_nodes() {
	local n
	for n in "${NODES[@]}"; do
		[[ -n $(pid_of "$n") ]] && echo "$n"
	done
	return 0
}

cmd_start() {
	for c in mariadbd mariadb-install-db mariadb rsync ss; do
		command -v "$c" >/dev/null || die "$c is missing; run scripts/deps.sh"
	done
	[[ -f $PROVIDER ]] || die "$PROVIDER is missing (Debian package galera-4); run scripts/deps.sh"
	((${#RUN} < 90)) || die "POSTDESK_GALERA_RUN=$RUN is too long for unix sockets"
	[[ -z $(running_nodes) ]] || die "some nodes already run: $(running_nodes | tr '\n' ' ')"
	mkdir -p "$DIR"
	local first n
	first=$(bootstrap_node)
	launch "$first" --wsrep-new-cluster
	wait_synced "$first" 1
	local size=1
	for n in "${NODES[@]}"; do
		[[ $n == "$first" ]] && continue
		launch "$n"
		size=$((size + 1))
		wait_synced "$n" "$size"
	done
	for n in "${NODES[@]}"; do wait_synced "$n" 3 10; done
	say "galera: 3 nodes Synced on 127.0.0.1 ports $(sql_port 1) $(sql_port 2) $(sql_port 3)"
}

# stop_node N SIGNAL: signal node N's group and wait until it is gone.
stop_node() {
	local n=$1 sig=$2 p
	p=$(pid_of "$n")
	[[ -n $p ]] || {
		rm -f "$RUN/n$n.pid"
		return 0
	}
	kill "-$sig" "$p" 2>/dev/null || true
	local deadline=$(($(now_ms) + 60000))
	while [[ -n $(pid_of "$n") ]] && (($(now_ms) < deadline)); do sleep 0.05; done
	if [[ -n $(pid_of "$n") ]]; then
		say "galera: node $n did not stop within 60 s; killing it" >&2
		kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
		while [[ -n $(pid_of "$n") ]]; do sleep 0.05; done
	fi
	# The SST helpers (rsync daemon, wsrep_sst_rsync) share its group.
	kill -KILL -- "-$p" 2>/dev/null || true
	rm -f "$RUN/n$n.pid" "$(sock "$n")" "$(sock "$n").lock"
}

cmd_stop() {
	local n
	for n in 3 2 1; do stop_node "$n" TERM; done
	rmdir "$RUN" 2>/dev/null || true
}

cmd_status() {
	local n st p rc=0
	for n in "${NODES[@]}"; do
		p=$(pid_of "$n")
		st=$(status_of "$n")
		if [[ -z $p ]]; then
			say "node $n: down (127.0.0.1:$(sql_port "$n"))"
			rc=1
		else
			say "node $n: pid $p, ${st:-not answering} (state size ready), 127.0.0.1:$(sql_port "$n")"
			[[ $st == "Synced 3 ON" ]] || rc=1
		fi
	done
	return $rc
}

cmd_kill_node() {
	check_node "$1"
	local p
	p=$(pid_of "$1")
	[[ -n $p ]] || die "node $1 does not run"
	kill -KILL "$p"
	while [[ -n $(pid_of "$1") ]]; do sleep 0.02; done
	kill -KILL -- "-$p" 2>/dev/null || true
	say "galera: node $1 killed"
}

cmd_start_node() {
	check_node "$1"
	local others
	others=$(running_nodes | grep -v "^$1\$" || true)
	[[ -n $others ]] || die "no other node runs: use '$0 start'"
	launch "$1"
	wait_synced "$1" $(($(wc -l <<<"$others") + 1))
	say "galera: node $1 Synced"
}

cmd_setup_db() {
	local pw=${1:-}
	[[ $pw =~ ^[A-Za-z0-9]+$ ]] || die "setup-db needs an alphanumeric password"
	local up
	mapfile -t up < <(running_nodes)
	((${#up[@]})) || die "no node runs"
	local n=${up[0]}
	client "$n" <<-SQL
		CREATE DATABASE IF NOT EXISTS postdesk CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS 'postdesk'@'localhost' IDENTIFIED BY '$pw';
		ALTER USER 'postdesk'@'localhost' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON postdesk.* TO 'postdesk'@'localhost';
		CREATE USER IF NOT EXISTS 'postdesk'@'127.0.0.1' IDENTIFIED BY '$pw';
		ALTER USER 'postdesk'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON postdesk.* TO 'postdesk'@'127.0.0.1';
	SQL
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
kill-node) cmd_kill_node "${2:-}" ;;
start-node) cmd_start_node "${2:-}" ;;
setup-db) cmd_setup_db "${2:-}" ;;
sql)
	check_node "${2:-}"
	n=$2
	shift 2
	client "$n" "$@"
	;;
*)
	sed -n '2,/^set -E/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
