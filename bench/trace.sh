#!/bin/sh
# Benchmark: what the checkpoints inside grade cells (grader/kernel_trace.c)
# cost, `grader grade` with and without them side by side. One course, four
# grade cells, each graded alone (a rubric per cell) on BENCH_N submissions
# (default 8, -j 1), best of BENCH_ROUNDS (default 3):
#   student  the test calls a pure-Python student function (3 million loop turns)
#   numpy    the test checks a 300x300 matmul with np.allclose, 20 times
#   loop     the test's own loop: 20 000 calls of a small student function
#   genexpr  the test's own generator expression over 3 million numbers
# Usage: sh bench/trace.sh path/to/grader path/to/baseline/grader
#   (the baseline: a build without the checkpoints, e.g. main's).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
new=$(realpath "${1:?usage: trace.sh GRADER BASELINE_GRADER}")
base=$(realpath "${2:?usage: trace.sh GRADER BASELINE_GRADER}")
N=${BENCH_N:-8}
ROUNDS=${BENCH_ROUNDS:-3}
PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH # Debian's python3, not a pyenv shim
work=$(mktemp -d /tmp/grader-bench-trace.XXXXXX)
trap 'rm -rf "$work"' EXIT
weaker=
"$new" doctor >/dev/null 2>&1 || weaker=--allow-weaker

# course KIND TEST: a source notebook whose one grade cell is TEST
course() {
	mkdir -p "$work/$1"
	/usr/bin/python3 - "$work/$1/hw.ipynb" "$2" <<'PYEOF'
import json, sys
def cell(src, **nbg):
    base = dict(schema_version=3, grade=False, solution=False, locked=False)
    base.update(nbg)
    return {"cell_type": "code", "metadata": {"nbgrader": base}, "source": src,
            "outputs": [], "execution_count": None}
work = ("def work(n):\n    ### BEGIN SOLUTION\n    s = 0\n    for i in range(n):\n"
        "        s += i % 7\n    return s\n    ### END SOLUTION\n")
nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    cell(work, grade_id="work", solution=True),
    cell(sys.argv[2].encode().decode("unicode_escape"), grade_id="t", grade=True, locked=True, points=1)]}
json.dump(nb, open(sys.argv[1], "w"))
PYEOF
	(cd "$work/$1" && "$new" rubric import hw.ipynb --assignment hw --no-auto-preload \
		--no-validate -o rubric.json >/dev/null 2>&1)
	"$new" rubric release "$work/$1/rubric.json" -o "$work/$1/rel" >/dev/null 2>&1
	/usr/bin/python3 - "$work/$1/rel/hw.ipynb" "$work/$1/sub" "$N" <<'PYEOF'
import json, os, sys
nb = json.load(open(sys.argv[1]))
for c in nb["cells"]:
    if c["metadata"].get("nbgrader", {}).get("grade_id") == "work":
        c["source"] = "def work(n):\n    s = 0\n    for i in range(n):\n        s += i % 7\n    return s\n"
for i in range(int(sys.argv[3])):
    os.makedirs(os.path.join(sys.argv[2], "s%d" % i, "hw"))
    json.dump(nb, open(os.path.join(sys.argv[2], "s%d" % i, "hw", "hw.ipynb"), "w"))
PYEOF
}
course student 'assert work(3000000) == 8999994\n'
course numpy 'import numpy as np\na = np.random.rand(300, 300)\nfor k in range(20):\n    assert np.allclose(a @ np.eye(300), a)\n'
course loop 'for i in range(20000):\n    assert work(3) == 3\n'
course genexpr 'assert sum(i % 7 for i in range(3000000)) == 8999994\n'

# best G KIND: the best wall time of ROUNDS gradings, in ms per submission
best() {
	b=
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		rm -f "$work/$2/gb.json" "$work/$2/gb.json.journal"
		t0=$(date +%s.%N)
		"$1" grade --rubric "$work/$2/rubric.json" --submissions "$work/$2/sub" \
			-o "$work/$2/gb.json" -q -j 1 $weaker 2>/dev/null || true
		t1=$(date +%s.%N)
		ms=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "%.0f", (b - a) * 1000 / n }')
		if [ -z "$b" ] || [ "$ms" -lt "$b" ]; then b=$ms; fi
		r=$((r + 1))
	done
	echo "$b"
}
score() {
	/usr/bin/python3 -c 'import json, sys; g = json.load(open(sys.argv[1]))
print(sum(s["score"] for s in g["submissions"]), sum(len(s["flags"]) for s in g["submissions"]))' "$1"
}
echo "grade cells, $N submissions each, -j 1, best of $ROUNDS; machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %12s %12s %7s  %s\n' cell "baseline ms" "traced ms" ratio "score, flags (traced)"
for k in student numpy loop genexpr; do
	b=$(best "$base" $k)
	n=$(best "$new" $k)
	printf '%-8s %12s %12s %7s  %s\n' $k "$b" "$n" \
		"$(awk -v a="$b" -v b="$n" 'BEGIN { printf "%.2f", b / a }')" "$(score "$work/$k/gb.json")"
done
