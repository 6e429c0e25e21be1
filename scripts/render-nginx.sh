#!/usr/bin/env bash
# render-nginx.sh — render an nginx template: replace each @NAME@ by VALUE.
#
#   scripts/render-nginx.sh TEMPLATE OUT NAME=VALUE...
#
# Used for nginx/nginx.conf.in and nginx/postdesk-snippet.conf.in by
# scripts/stack.sh (the local stack) and "make install" (production), so
# both nginx configurations come from one source. A placeholder left in a
# directive (a NAME not given) fails the rendering; comments may mention
# placeholders. OUT is replaced whole (written beside, then moved).
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
	[[ $kv == [A-Z]*=* ]] || { echo "render-nginx: not NAME=VALUE: $kv" >&2; exit 2; }
	args+=(-e "s|@${kv%%=*}@|$(sed_escape "${kv#*=}")|g")
done

sed "${args[@]}" "$template" >"$out.tmp"
if left=$(grep -n '^[^#]*@[A-Z_][A-Z_]*@' "$out.tmp"); then
	rm -f "$out.tmp"
	echo "render-nginx: $template: placeholders left:" >&2
	echo "$left" >&2
	exit 1
fi
mv -f "$out.tmp" "$out"
