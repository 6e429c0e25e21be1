#!/usr/bin/env bash
# run-unit.sh BIN... — run the C unit test programs and add up their results.
#
# Each program prints its own last line "N passed, N failed". This prints the
# programs' output, then one final line "N passed, N failed" for all of them,
# and exits non-zero if any program failed a check, exited non-zero (a crash
# or a sanitizer report), printed no summary, or if no test ran at all.
set -uo pipefail

total_pass=0 total_fail=0 bad=()
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		((total_pass += BASH_REMATCH[1], total_fail += BASH_REMATCH[2]))
		((BASH_REMATCH[2] == 0)) || bad+=("$bin: ${BASH_REMATCH[2]} failed")
	else
		bad+=("$bin: no \"N passed, N failed\" line")
	fi
	((rc == 0)) || bad+=("$bin: exit status $rc")
done

for b in "${bad[@]}"; do
	echo "FAILED $b" >&2
done
((total_pass + total_fail > 0)) || {
	echo "no unit test ran" >&2
	bad+=(none)
}
echo "$total_pass passed, $total_fail failed"
((${#bad[@]} == 0))
