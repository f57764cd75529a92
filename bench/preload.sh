#!/bin/sh
# A rubric imported with no flags (preloads detected) against the same rubric
# with no preload and with the preloads an instructor would choose by hand,
# side by side in one run on N submissions of the demo course at -j 2.
# Usage: sh bench/preload.sh [N] [path/to/grader]      (N defaults to 200)
set -e
N=${1:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
grader=${2:-$root/build/grader}
[ -x "$grader" ] || { echo "build first: make" >&2; exit 1; }
work=$(mktemp -d /tmp/grader-bench-preload.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$root/rubrics/examples/ps1/source
weaker= nv=
# without the full sandbox: grade in a weaker one, and write the rubrics unproven
"$grader" doctor >/dev/null 2>&1 || weaker=--allow-weaker nv=--no-validate

imp() { n=$1; shift; "$grader" rubric import "$src/ps1.ipynb" --assignment ps1 --data "$src/data.csv" \
	--cell-timeout 5 $nv -o "$work/$n.json" "$@" 2>/dev/null; }
imp none --no-auto-preload
imp auto
imp hand --preload numpy,matplotlib,matplotlib.pyplot,csv,math
"$grader" rubric release "$work/auto.json" -o "$work/release" >/dev/null 2>&1
demo_submissions "$N" "$work/release/ps1.ipynb" "$work" >/dev/null
run() {
	rm -f "$work/gb.json" "$work/gb.json.journal"
	start=$(date +%s.%N)
	"$grader" grade --rubric "$work/$1.json" --submissions "$work/sub" -o "$work/gb.json" \
		-j 2 --quiet $weaker
	echo "$(date +%s.%N) - $start" | bc
}
echo "grading $N demo submissions at -j 2; preloads: auto = $(/usr/bin/python3 -c "import json,sys; print(','.join(json.load(open(sys.argv[1]))['preload']))" "$work/auto.json")"
t_none=$(run none); t_auto=$(run auto); t_hand=$(run hand)
printf '%-28s %9s %9s\n' rubric seconds ms/each
for r in none auto hand; do
	eval t=\$t_$r
	printf '%-28s %9.2f %9.1f\n' "$r" "$t" "$(echo "$t * 1000 / $N" | bc -l)"
done
printf 'auto / hand-picked: %.2fx   none / auto: %.2fx\n' \
	"$(echo "$t_auto / $t_hand" | bc -l)" "$(echo "$t_none / $t_auto" | bc -l)"
