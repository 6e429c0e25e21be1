#!/usr/bin/env bash
# check-layers.sh — the layering rules of docs/ARCHITECTURE.md ("Layers"),
# by grep:
#   FCGX_*   only in lib/fcgi.c
#   mysql_*  only in lib/db.c and lib/store_*.c
#   curl_*   only in lib/http.c
#   nothing in lib/ includes a cgi-bin/ header
# Prints every offending line and exits 1 if there is one.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

C_FILES=$(find lib cgi-bin bin -name '*.[ch]' 2>/dev/null | sort)
bad=0

# rule NAME REGEX ALLOWED-FILES-REGEX
rule() {
	local name=$1 re=$2 allowed=$3 f hits
	for f in $C_FILES; do
		[[ $f =~ $allowed ]] && continue
		hits=$(grep -nE "$re" "$f") || continue
		printf '%s\n' "$hits" | sed "s|^|$f:|"
		echo "  ^ $name" >&2
		bad=1
	done
}

rule "FCGX_ only in lib/fcgi.c" '\bFCGX_' '^lib/fcgi\.[ch]$'
rule "mysql_ only in lib/db.c and lib/store_*.c" '\bmysql_' '^lib/(db|store_[A-Za-z0-9_]+)\.[ch]$'
rule "curl_ only in lib/http.c" '\bcurl_' '^lib/http\.[ch]$'

# lib/ must not reach up into cgi-bin/: no path into it, and no header
# whose name is one of cgi-bin's headers.
for f in $(find lib -name '*.[ch]' 2>/dev/null | sort); do
	hits=$(grep -nE '#[[:space:]]*include[[:space:]]*"[^"]*cgi-bin' "$f")
	while read -r h; do
		[[ -e lib/$h ]] && continue # a lib header of the same name wins
		hits+=$'\n'$(grep -nE "#[[:space:]]*include[[:space:]]*\"$h\"" "$f")
	done < <(find cgi-bin -name '*.h' -printf '%f\n' 2>/dev/null)
	hits=$(printf '%s\n' "$hits" | sed '/^$/d')
	if [[ -n $hits ]]; then
		printf '%s\n' "$hits" | sed "s|^|$f:|"
		echo "  ^ lib/ must not include cgi-bin headers" >&2
		bad=1
	fi
done

if ((bad)); then
	echo "check-layers: layering violations above (see "Layers" in docs/ARCHITECTURE.md)" >&2
	exit 1
fi
echo "check-layers: ok"
