#!/usr/bin/env bash
# fuzz.sh SECONDS WORKERS TARGET... — run each libFuzzer target
# build/fuzz/fuzz_TARGET for SECONDS over its seeds (tests/fuzz/corpus/
# TARGET, read only) and its growing corpus (build/fuzz/corpus/TARGET),
# with the dictionary tests/fuzz/TARGET.dict when there is one.  WORKERS > 1
# runs that many jobs in parallel (make fuzz-long).
#
# Prints one line per target (runs, execs/s, coverage); a crash, a leak, a
# sanitizer report or a timeout prints the end of that target's log (the
# stack trace and the artifact's path) and makes the exit status non-zero,
# after the other targets have run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

secs=$1 workers=$2
shift 2
root=$PWD bad=()

for t in "$@"; do
	dir=build/fuzz/$t
	rm -rf "$dir" && mkdir -p "$dir" "build/fuzz/corpus/$t" || exit 1
	args=(-max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024
		-timeout=10 -print_final_stats=1 -artifact_prefix="$root/$dir/")
	[[ -f tests/fuzz/$t.dict ]] && args+=(-dict="$root/tests/fuzz/$t.dict")
	((workers > 1)) && args+=(-jobs="$workers" -workers="$workers")
	(cd "$dir" && "$root/build/fuzz/fuzz_$t" "${args[@]}" \
		"$root/build/fuzz/corpus/$t" "$root/tests/fuzz/corpus/$t" \
		>fuzz.log 2>&1)
	rc=$?
	logs=("$dir"/fuzz.log)
	((workers > 1)) && logs+=("$dir"/fuzz-*.log)
	for log in "${logs[@]}"; do
		[[ -f $log ]] || continue
		runs=$(grep -h '^stat::number_of_executed_units' "$log" | awk '{ s += $2 } END { print s + 0 }')
		speed=$(grep -h '^stat::average_exec_per_sec' "$log" | awk '{ s += $2 } END { print s + 0 }')
		cov=$(grep -hoE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
		# with jobs, fuzz.log repeats the jobs' own logs
		[[ $log == */fuzz.log ]] && ((workers > 1)) && continue
		printf 'fuzz_%-8s %s: %s runs, %s exec/s, %s\n' "$t" \
			"${log##*/}" "$runs" "$speed" "${cov:-no coverage line}"
	done
	if ((rc != 0)); then
		for log in "${logs[@]}"; do
			grep -qE 'ERROR|SUMMARY|Test unit written' "$log" 2>/dev/null ||
				continue
			echo "--- $log" >&2
			grep -nE '^==[0-9]+==ERROR' "$log" | head -n 1 >&2
			sed -n '/==ERROR\|runtime error\|deadly signal\|ERROR: libFuzzer/,$p' "$log" | head -n 80 >&2
		done
		bad+=("fuzz_$t: exit status $rc (artifacts in $dir)")
	fi
done

for b in "${bad[@]}"; do
	echo "FAILED $b" >&2
done
((${#bad[@]} == 0))
