#!/usr/bin/env bash
# render.sh — render a template: replace each @NAME@ by VALUE.
#
#   scripts/render.sh TEMPLATE OUT NAME=VALUE... [NAME+=ITEM...]
#
# Used for nginx/nginx.conf.in and nginx/postdesk-snippet.conf.in by
# scripts/stack.sh (the local stack) and "make install" (production), so
# both nginx configurations come from one source, and by "make install"
# for the files of packaging/ (postdesk.conf.in, the cron and tmpfiles
# lines), with the Makefile's path variables. NAME+=ITEM makes NAME a list:
# each line holding @NAME@ is written once per ITEM, in the order given
# (nginx/postdesk-upstream.conf.in: one "server" line per FastCGI backend).
# A placeholder left outside a
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

args=(-e "") # sed needs a script, even with no NAME=VALUE
lists=() # "NAME<TAB>ITEM" lines, for expand_lists
for kv in "$@"; do
	if [[ $kv =~ ^([A-Z][A-Z_]*)\+=(.*)$ ]]; then
		lists+=("${BASH_REMATCH[1]}"$'\t'"${BASH_REMATCH[2]}")
		continue
	fi
	[[ $kv == [A-Z]*=* ]] || { echo "render: not NAME=VALUE: $kv" >&2; exit 2; }
	args+=(-e "s|@${kv%%=*}@|$(sed_escape "${kv#*=}")|g")
done

# expand_lists: each line holding a list's @NAME@, once per item (literal
# replacement: awk's gsub would read "&" in an item).
expand_lists() {
	awk -v spec="$(((${#lists[@]})) && printf '%s\n' "${lists[@]}")" '
		BEGIN {
			n = split(spec, rows, "\n")
			for (i = 1; i <= n; i++) {
				if (rows[i] == "") continue
				t = index(rows[i], "\t")
				name = "@" substr(rows[i], 1, t - 1) "@"
				items[name, ++count[name]] = substr(rows[i], t + 1)
			}
		}
		function subst(line, name, item,   out, k) {
			out = ""
			while ((k = index(line, name)) > 0) {
				out = out substr(line, 1, k - 1) item
				line = substr(line, k + length(name))
			}
			return out line
		}
		{
			for (name in count) {
				if (index($0, name) && $0 !~ /^[ \t]*#/) {
					for (i = 1; i <= count[name]; i++)
						print subst($0, name, items[name, i])
					next
				}
			}
			print
		}'
}

expand_lists <"$template" | sed "${args[@]}" >"$out.tmp"
if left=$(grep -n '^[^#]*@[A-Z_][A-Z_]*@' "$out.tmp"); then
	rm -f "$out.tmp"
	echo "render: $template: placeholders left:" >&2
	echo "$left" >&2
	exit 1
fi
mv -f "$out.tmp" "$out"
