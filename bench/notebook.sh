#!/bin/sh
# Benchmark: the same 3-cell numpy notebook, 100 copies, run three ways in one
# go and compared side by side:
#   1. jupyter nbconvert --to notebook --execute (a Jupyter kernel per notebook);
#      only BENCH_NBCONVERT copies (default 5) are timed and the per-notebook
#      figure is extrapolated: it takes seconds each;
#   2. /usr/bin/python3 script.py with the same cells (BENCH_PY copies, default 20,
#      extrapolated the same way);
#   3. grader nb run on all 100 (one zygote, numpy preloaded, each notebook in a
#      fresh sandboxed child).
# Usage: sh bench/notebook.sh [path/to/grader [path/to/baseline/grader]]
#   (default build/grader). With a baseline, both run the 100 notebooks in
#   turn, BENCH_ROUNDS times (default 3), and the best of each is compared:
#   before and after a change, in one run.
# nbconvert comes from Debian's jupyter-nbconvert and python3-ipykernel; as root
# the script installs them if missing, otherwise that column is skipped.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GRADER=${1:-$ROOT/build/grader}
BASE=${2:-}
ROUNDS=${BENCH_ROUNDS:-3}
N=100
NBC=${BENCH_NBCONVERT:-5}
NPY=${BENCH_PY:-20}
T=$(mktemp -d /tmp/grader-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH   # Debian's python3, not a pyenv shim

[ -x "$GRADER" ] || { echo "no grader at $GRADER (run make first)" >&2; exit 1; }

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }'; }

CELL1='import numpy as np'
CELL2='a = np.random.rand(200, 200)\nb = a @ a.T'
CELL3='float(np.linalg.norm(b))'
i=0
while [ $i -lt $N ]; do
	d=$(printf '%s/nb/%03d' "$T" $i)
	mkdir -p "$d"
	cat >"$d/hw.ipynb" <<JSON
{"cells": [
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["$CELL1"]},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["$CELL2"]},
 {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["$CELL3"]}
], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
 "nbformat": 4, "nbformat_minor": 5}
JSON
	printf "$CELL1\n$CELL2\nprint($CELL3)\n" >"$d/script.py"
	i=$((i + 1))
done

echo "notebook: 3 code cells (import numpy; 200x200 matmul; norm), $N copies"
echo "machine: $(nproc) cores, $(uname -r)"

# 1. nbconvert
if ! command -v jupyter-nbconvert >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import ipykernel' 2>/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing jupyter-nbconvert and python3-ipykernel for the benchmark..." >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jupyter-nbconvert python3-ipykernel >/dev/null 2>&1
	fi
fi
nbc_ms=""
if command -v jupyter-nbconvert >/dev/null 2>&1 && /usr/bin/python3 -c 'import ipykernel' 2>/dev/null; then
	t0=$(now)
	i=0
	while [ $i -lt $NBC ]; do
		d=$(printf '%s/nb/%03d' "$T" $i)
		jupyter-nbconvert --to notebook --execute --output-dir "$T/out" "$d/hw.ipynb" \
			>/dev/null 2>&1 || { echo "nbconvert failed on $d/hw.ipynb" >&2; break; }
		i=$((i + 1))
	done
	t1=$(now)
	[ $i -eq $NBC ] && nbc_ms=$(ms "$t0" "$t1" "$NBC")
else
	echo "nbconvert: skipped (install jupyter-nbconvert python3-ipykernel)"
fi

# 2. python3 script.py
t0=$(now)
i=0
while [ $i -lt $NPY ]; do
	/usr/bin/python3 "$(printf '%s/nb/%03d' "$T" $i)/script.py" >/dev/null || exit 1
	i=$((i + 1))
done
t1=$(now)
py_ms=$(ms "$t0" "$t1" "$NPY")

# 3. grader nb run on all of them
t0=$(now)
"$GRADER" nb run --json --preload numpy "$T"/nb/*/hw.ipynb >"$T/g.json" || { echo "grader failed" >&2; exit 1; }
t1=$(now)
g_ms=$(ms "$t0" "$t1" "$N")
stats=$(/usr/bin/python3 - "$T/g.json" <<'PY'
import json, sys
nbs = json.load(open(sys.argv[1]))["notebooks"]
ok = sum(all(c["status"] == "ok" for c in n["cells"]) for n in nbs)
wall = sum(n["wall"] for n in nbs) / len(nbs) * 1000
cells = sum(c["time"] for n in nbs for c in n["cells"]) / len(nbs) * 1000
print("%d %.1f %.1f %.1f" % (ok, wall, cells, wall - cells))
PY
)
set -- $stats
echo
printf '%-44s %10s %10s\n' "per notebook" "ms" "grader is"
[ -n "$nbc_ms" ] && printf '%-44s %10s %9sx\n' "jupyter nbconvert --execute ($NBC timed)" "$nbc_ms" \
	"$(awk -v a="$nbc_ms" -v b="$g_ms" 'BEGIN { printf "%.0f", a / b }')"
printf '%-44s %10s %9sx\n' "python3 script.py ($NPY timed)" "$py_ms" \
	"$(awk -v a="$py_ms" -v b="$g_ms" 'BEGIN { printf "%.0f", a / b }')"
printf '%-44s %10s\n' "grader nb run, all $N (incl. zygote start)" "$g_ms"
printf '%-44s %10s\n' "  of which: sandboxed run, fork to exit" "$2"
printf '%-44s %10s\n' "  of which: the cells' own compute" "$3"
printf '%-44s %10s\n' "  engine + sandbox overhead per notebook" "$4"
echo "notebooks with every cell ok: $1/$N"

# before and after: the same notebooks, both binaries in turn
[ -n "$BASE" ] || exit 0
[ -x "$BASE" ] || { echo "no baseline grader at $BASE" >&2; exit 1; }
one() { # GRADER -> "ms_per_notebook overhead_per_notebook"
	t0=$(now)
	"$1" nb run --json --preload numpy "$T"/nb/*/hw.ipynb >"$T/ab.json" || return 1
	t1=$(now)
	/usr/bin/python3 - "$T/ab.json" "$(ms "$t0" "$t1" "$N")" <<'PY'
import json, sys
nbs = json.load(open(sys.argv[1]))["notebooks"]
wall = sum(n["wall"] for n in nbs) / len(nbs) * 1000
cells = sum(c["time"] for n in nbs for c in n["cells"]) / len(nbs) * 1000
print("%s %.2f" % (sys.argv[2], wall - cells))
PY
}
best_new=""; best_old=""; ov_new=""; ov_old=""
r=0
while [ $r -lt "$ROUNDS" ]; do
	set -- $(one "$GRADER"); n_ms=$1; n_ov=$2
	set -- $(one "$BASE"); o_ms=$1; o_ov=$2
	echo "round $((r + 1)): after $n_ms ms (overhead $n_ov), before $o_ms ms (overhead $o_ov)"
	best_new=$(awk -v a="$best_new" -v b="$n_ms" 'BEGIN { print (a == "" || b < a) ? b : a }')
	best_old=$(awk -v a="$best_old" -v b="$o_ms" 'BEGIN { print (a == "" || b < a) ? b : a }')
	ov_new=$(awk -v a="$ov_new" -v b="$n_ov" 'BEGIN { print (a == "" || b < a) ? b : a }')
	ov_old=$(awk -v a="$ov_old" -v b="$o_ov" 'BEGIN { print (a == "" || b < a) ? b : a }')
	r=$((r + 1))
done
printf '%-44s %10s %10s %8s\n' "best of $ROUNDS, per notebook" "before" "after" "ratio"
printf '%-44s %10s %10s %8s\n' "grader nb run, all $N" "$best_old" "$best_new" \
	"$(awk -v a="$best_new" -v b="$best_old" 'BEGIN { printf "%.3f", a / b }')"
printf '%-44s %10s %10s %8s\n' "engine + sandbox overhead" "$ov_old" "$ov_new" \
	"$(awk -v a="$ov_new" -v b="$ov_old" 'BEGIN { printf "%.3f", a / b }')"
