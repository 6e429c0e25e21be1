#!/usr/bin/env bash
# install-system.sh — what "make install" does to the machine after it has
# put the files in place (only without DESTDIR; a package does the same in
# its maintainer scripts). Idempotent; never replaces postdesk.conf or
# secret.key.
#
#   SYSCONFDIR=… LOGDIR=… RUNDIR=… TMPFILES=… scripts/install-system.sh
#
# (the Makefile passes its path variables; TMPFILES is the installed
# tmpfiles.d file.) Run as root:
#   - the system user and group postdesk (the FastCGI workers and the
#     scanner run as it);
#   - SYSCONFDIR/postdesk.conf from postdesk.conf.example and
#     SYSCONFDIR/secret.key (32 random bytes), each 0640 root:postdesk,
#     when missing;
#   - LOGDIR (postdesk:adm 0750) and its postdesk.log (postdesk:adm 0640),
#     made before any program runs: a file root's postdesk-admin created
#     would be root's, and the workers could not append to it;
#   - RUNDIR, through systemd-tmpfiles when present (again at each boot),
#     else directly.
set -Eeuo pipefail

: "${SYSCONFDIR:?} ${LOGDIR:?} ${RUNDIR:?} ${TMPFILES:?}"
say() { printf 'install-system: %s\n' "$*"; }

if ((EUID != 0)); then
	say "not root: skipped (user postdesk, $SYSCONFDIR/secret.key, $LOGDIR, $RUNDIR)"
	exit 0
fi

if ! getent passwd postdesk >/dev/null; then
	adduser --system --group --home /nonexistent --no-create-home postdesk >/dev/null
	say "created the system user postdesk"
fi

conf=$SYSCONFDIR/postdesk.conf key=$SYSCONFDIR/secret.key
if [[ ! -e $conf ]]; then
	install -m 0640 -o root -g postdesk "$conf.example" "$conf"
	say "created $conf from postdesk.conf.example: set portal_url and the db_ keys"
fi
if [[ ! -e $key ]]; then
	(umask 077 && head -c 32 /dev/urandom >"$key.new")
	chown root:postdesk "$key.new"
	chmod 0640 "$key.new"
	mv -n "$key.new" "$key"
	rm -f "$key.new"
	say "created $key: back it up, the sealed secrets need it"
fi
for f in "$conf" "$key"; do
	[[ $(stat -c '%a %U:%G' "$f") == "640 root:postdesk" ]] ||
		say "warning: $f is $(stat -c '%a %U:%G' "$f"); the workers need 0640 root:postdesk:" \
			"chown root:postdesk $f && chmod 0640 $f"
done

install -d -m 0750 -o postdesk -g adm "$LOGDIR"
[[ -e $LOGDIR/postdesk.log ]] ||
	install -m 0640 -o postdesk -g adm /dev/null "$LOGDIR/postdesk.log"

if command -v systemd-tmpfiles >/dev/null; then
	systemd-tmpfiles --create "$TMPFILES"
else
	install -d -m 0750 -o postdesk -g www-data "$RUNDIR"
fi
