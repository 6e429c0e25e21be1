#!/usr/bin/env bash
# render.sh — render a template: replace each @NAME@ by VALUE.
#
#   scripts/render.sh TEMPLATE OUT NAME=VALUE...
#
# Used for nginx/nginx.conf.in and nginx/postdesk-snippet.conf.in by
# scripts/stack.sh (the local stack) and "make install" (production), so
# both nginx configurations come from one source, and by "make install"
# for the files of packaging/ (postdesk.conf.in, the cron and tmpfiles
# lines), with the Makefile's path variables. A placeholder left outside a
# comment (a NAME not given) fails the rendering; "#" comment lines may
# mention placeholders. OUT is replaced whole (written beside, then moved).
set -Eeuo pipefail

(($# >= 2)) || { echo "usage: $0 TEMPLATE OUT NAME=VALUE..." >&2; exit 2; }
template=$1 out=$2
shift 2

# A value may hold any character but a newline: escape sed's own.
sed_escape() {
	printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'
}

args=()
for kv in "$@"; do
	[[ $kv == [A-Z]*=* ]] || { echo "render: not NAME=VALUE: $kv" >&2; exit 2; }
	args+=(-e "s|@${kv%%=*}@|$(sed_escape "${kv#*=}")|g")
done

sed "${args[@]}" "$template" >"$out.tmp"
if left=$(grep -n '^[^#]*@[A-Z_][A-Z_]*@' "$out.tmp"); then
	rm -f "$out.tmp"
	echo "render: $template: placeholders left:" >&2
	echo "$left" >&2
	exit 1
fi
mv -f "$out.tmp" "$out"
