#!/usr/bin/env bash
# check-layers.sh — the layering rules of docs/ARCHITECTURE.md ("Layers"),
# by grep.  lib/ is in layer folders; a file includes only headers of its
# own layer and of the layers it may use:
#   base       libc only
#   model      base                     (states as enums, shared limits)
#   adapt      base model               (one C library per adapter)
#   store      ... adapt                (SQL, one file per table)
#   microsoft  ... adapt                (Microsoft login and Graph)
#   mail       ... adapt microsoft      (mail formats)
#   domain     ... adapt store microsoft mail
#   web        every layer of lib/
#   cgi-bin/ bin/ (programs): every layer but store; "store_" nowhere
# and each C library stays in its adapter:
#   FCGX_*  only in lib/adapt/fcgi.c
#   mysql_* only in lib/adapt/db.c and lib/store/
#   curl_*  only in lib/adapt/http.c
#   nothing in lib/ includes a cgi-bin/ header
# Prints every offending line and exits 1 if there is one.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

declare -A MAY=(
	[base]="base"
	[model]="base model"
	[adapt]="base model adapt"
	[store]="base model adapt store"
	[microsoft]="base model adapt microsoft"
	[mail]="base model adapt microsoft mail"
	[domain]="base model adapt store microsoft mail domain"
	[web]="base model adapt store microsoft mail domain web"
	[cgi-bin]="base model adapt microsoft mail domain web"
	[bin]="base model adapt microsoft mail domain web"
)
bad=0
fail() { # FILE:LINE... RULE
	printf '%s\n' "$1"
	echo "  ^ $2" >&2
	bad=1
}

layer_of() { # path -> layer name
	case $1 in
	lib/*/*) local l=${1#lib/}; echo "${l%%/*}" ;;
	cgi-bin/*) echo cgi-bin ;;
	bin/*) echo bin ;;
	*) echo "?" ;;
	esac
}

C_FILES=$(find lib cgi-bin bin -name '*.[ch]' 2>/dev/null | sort)
for f in $C_FILES; do
	layer=$(layer_of "$f")
	if [[ -z ${MAY[$layer]+x} ]]; then
		fail "$f" "every lib file lives in a layer folder (${!MAY[*]})"
		continue
	fi
	while IFS=: read -r n inc; do
		[[ -n $inc ]] || continue
		case $inc in
		*/*) dep=${inc%%/*} ;;
		*) [[ $layer == cgi-bin || $layer == bin ]] && continue # own header
		   dep="(no folder)" ;;
		esac
		[[ " ${MAY[$layer]} " == *" $dep "* ]] ||
			fail "$f:$n: #include \"$inc\"" "$layer may include only: ${MAY[$layer]}"
	done < <(grep -nE '^#[[:space:]]*include[[:space:]]*"' "$f" |
		sed -E 's/^([0-9]+):.*include[[:space:]]*"([^"]+)".*/\1:\2/')
done

# rule NAME REGEX FILES-ALLOWED-REGEX [FILES-CHECKED-REGEX]
rule() {
	local name=$1 re=$2 allowed=$3 only=${4:-.} f hits
	for f in $C_FILES; do
		[[ $f =~ $only ]] || continue
		[[ $f =~ $allowed ]] && continue
		hits=$(grep -nE "$re" "$f") || continue
		fail "$(printf '%s\n' "$hits" | sed "s|^|$f:|")" "$name"
	done
}
rule "FCGX_ only in lib/adapt/fcgi.c" '\bFCGX_' '^lib/adapt/fcgi\.[ch]$'
rule "mysql_ only in lib/adapt/db.c and lib/store/" '\bmysql_' '^lib/(adapt/db\.[ch]|store/)'
rule "curl_ only in lib/adapt/http.c" '\bcurl_' '^lib/adapt/http\.[ch]$'
rule "programs call the domain layer, never store_" '\bstore_' '^$' '^(cgi-bin|bin)/'
rule "lib/ must not include cgi-bin headers" '#[[:space:]]*include[[:space:]]*"[^"/]*(api|cgi-bin)[^"]*"' '^$' '^lib/'

if ((bad)); then
	echo "check-layers: layering violations above (see \"Layers\" in docs/ARCHITECTURE.md)" >&2
	exit 1
fi
echo "check-layers: ok"
