#!/bin/sh
# What proving a rubric on its own solution adds to `rubric import` on the
# demo course: import with --no-validate against import as it is by default,
# each the best of R runs, side by side.
# Usage: sh bench/validate.sh [R] [path/to/grader]      (R defaults to 5)
set -e
R=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
grader=${2:-$root/build/grader}
[ -x "$grader" ] || { echo "build first: make" >&2; exit 1; }
"$grader" doctor >/dev/null 2>&1 || { echo "validation needs the full sandbox (root)" >&2; exit 1; }
work=$(mktemp -d /tmp/grader-bench-validate.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$root/rubrics/examples/ps1/source
# best DESCRIPTION FLAGS...: the fastest of R imports of the demo, in seconds
best() {
	b=
	i=0
	while [ $i -lt "$R" ]; do
		start=$(date +%s.%N)
		"$grader" rubric import "$src/ps1.ipynb" --assignment ps1 --data "$src/data.csv" \
			--preload numpy,matplotlib,matplotlib.pyplot --cell-timeout 5 \
			-o "$work/r.json" "$@" 2>/dev/null
		t=$(echo "$(date +%s.%N) - $start" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}
t_no=$(best --no-validate)
t_yes=$(best)
printf 'rubric import of the demo course, best of %s:\n' "$R"
printf '  --no-validate        %6.3f s\n' "$t_no"
printf '  validated (default)  %6.3f s  (+%.3f s, %.1fx)\n' "$t_yes" \
	"$(echo "$t_yes - $t_no" | bc)" "$(echo "$t_yes / $t_no" | bc -l)"
