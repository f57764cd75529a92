#!/bin/sh
# Grade N generated submissions of the demo course with -j 1 and -j 2, side by
# side in one run, and print submissions/s, the scaling ratio, and the peak
# memory of the grader's own (coordinator) process.
# Usage: sh bench/grade.sh [N] [path/to/grader]      (N defaults to 1000)
set -e
N=${1:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
grader=${2:-$root/build/grader}
[ -x "$grader" ] || { echo "build first: make" >&2; exit 1; }
work=$(mktemp -d /tmp/grader-bench-grade.XXXXXX)
trap 'rm -rf "$work"' EXIT
ex=$root/rubrics/examples

"$grader" rubric release "$ex/ps1.json" -o "$work/release" >/dev/null
demo_submissions "$N" "$work/release/ps1.ipynb" "$work"

# run JOBS: grade everything afresh; prints "seconds peak_rss_kb"
run() {
	rm -f "$work/gb.json" "$work/gb.json.journal"
	start=$(date +%s.%N)
	"$grader" grade --rubric "$ex/ps1.json" --submissions "$work/sub" -o "$work/gb.json" \
		-j "$1" --quiet &
	pid=$!
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
		sleep 0.2
	done
	wait "$pid"
	end=$(date +%s.%N)
	echo "$(echo "$end - $start" | bc) $peak"
}

echo "grading $N submissions of the demo course (8 scenarios, 5 test cells, numpy+matplotlib preloaded)"
set -- $(run 1); t1=$1; m1=$2
set -- $(run 2); t2=$1; m2=$2
small=$((N / 10)); [ $small -ge 8 ] || small=8
printf '%-8s %10s %14s %12s %22s\n' jobs seconds "submissions/s" "ms/each" "coordinator peak RSS"
printf '%-8s %10.2f %14.1f %12.1f %19s kB\n' "-j 1" "$t1" "$(echo "$N / $t1" | bc -l)" "$(echo "$t1 * 1000 / $N" | bc -l)" "$m1"
printf '%-8s %10.2f %14.1f %12.1f %19s kB\n' "-j 2" "$t2" "$(echo "$N / $t2" | bc -l)" "$(echo "$t2 * 1000 / $N" | bc -l)" "$m2"
printf 'scaling -j 2 / -j 1: %.2fx (2 cores, shared machine)\n' "$(echo "$t1 / $t2" | bc -l)"
