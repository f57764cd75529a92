#!/bin/sh
# Time and peak RSS of every exporter and of `grader merge` (4 parts) on a
# synthetic gradebook of the demo course, at N/10 and N submissions side by
# side, with the ratios: time should grow with N, memory should not.
# Usage: sh bench/export.sh [N] [path/to/grader]      (N defaults to 10000)
set -e
N=${1:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
grader=${2:-$root/build/grader}
[ -x "$grader" ] || { echo "build first: make" >&2; exit 1; }
work=$(mktemp -d /tmp/grader-bench-export.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
ex=$root/rubrics/examples
small=$((N / 10))

# one real run of the 9 scenarios of the demo course is the template
"$grader" rubric release "$ex/ps1.json" -o "$work/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$work/release/ps1.ipynb" "$work/sub"
"$grader" grade --rubric "$ex/ps1.json" --submissions "$work/sub" -o "$work/template.json" -q
for n in "$small" "$N"; do
	/usr/bin/python3 "$root/bench/make_gradebook.py" "$work/template.json" "$n" "$work/gb$n.json"
	/usr/bin/python3 "$root/bench/make_gradebook.py" "$work/template.json" "$n" \
		"$work/part$n.json" --shards 4
done
head -c 32 /dev/urandom >"$work/key"

# measure CMD...: prints "wall_s cpu_s peak_rss_kB" of CMD (its output discarded); the
# CPU time (user + system) is the figure to compare on a shared, loaded machine
measure() {
	/usr/bin/python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
if rc:
    sys.exit("failed (%d): %s" % (rc, " ".join(sys.argv[1:])))
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.2f %d" % (time.monotonic() - t, r.ru_utime + r.ru_stime, r.ru_maxrss))
' "$@"
}

# run NAME N: one export or merge at N submissions
run() {
	gb=$work/gb$2.json
	rm -rf "$work/out" "$work/out.db"
	case $1 in
	csv | junit | markdown | items) measure "$grader" export "$gb" --to "$1" -o "$work/out" ;;
	csv-per-cell) measure "$grader" export "$gb" --to csv --per-cell -o "$work/out" ;;
	csv-pseudonymised) measure "$grader" export "$gb" --to csv --pseudonymise "$work/key" -o "$work/out" ;;
	gradescope) measure "$grader" export "$gb" --to gradescope -o "$work/out" ;;
	nbgrader-db) measure "$grader" export "$gb" --to nbgrader-db -o "$work/out.db" ;;
	merge) measure "$grader" merge "$work/part$2.1.json" "$work/part$2.2.json" \
		"$work/part$2.3.json" "$work/part$2.4.json" -o "$work/out" ;;
	esac
}

mb() { echo "scale=1; $1 / 1024" | bc; }
echo "gradebook of $small: $(($(wc -c <"$work/gb$small.json") / 1048576)) MB; of $N: $(($(wc -c <"$work/gb$N.json") / 1048576)) MB"
printf '%-18s %8s %8s %8s %8s %8s %8s %7s %7s\n' "" "wall@$small" "cpu@$small" "MB@$small" \
	"wall@$N" "cpu@$N" "MB@$N" "cpu x" "RSS x"
for what in csv csv-per-cell csv-pseudonymised junit markdown items gradescope nbgrader-db merge; do
	set -- $(run "$what" "$small"); w1=$1; c1=$2; m1=$3
	set -- $(run "$what" "$N"); w2=$1; c2=$2; m2=$3
	printf '%-18s %8.2f %8.2f %8s %8.2f %8.2f %8s %6.1fx %6.2fx\n' "$what" "$w1" "$c1" \
		"$(mb "$m1")" "$w2" "$c2" "$(mb "$m2")" "$(echo "$c2 / ($c1 + 0.005)" | bc -l)" \
		"$(echo "$m2 / $m1" | bc -l)"
done
echo "(merge: 4 parts of $((small / 4)) and of $((N / 4)); target: every row under 64 MB at $N)"
