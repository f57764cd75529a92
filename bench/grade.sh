#!/bin/sh
# `grader grade` side by side in one run:
#   1. N submissions of the demo course with -j 1 and -j 2: seconds, ms per
#      submission, the cells' own compute (from GRADER_PROFILE) and the ms per
#      submission above it, the scaling ratio (target: -j 2 at least 1.8x -j 1)
#      and the coordinator's peak RSS;
#   2. the coordinator's peak RSS with a tiny notebook at each count of
#      BENCH_BIG (default "1000 10000", a few minutes; BENCH_BIG=1000 for a
#      quick run; target: under 64 MB), and its peak RSS regrading one
#      student with --merge into that gradebook (the others' rows streamed);
#   3. a rubric imported with no flags (preloads detected) against the same
#      with the right explicit --preload, on the demo course and on a notebook
#      importing numpy, pandas and matplotlib (BENCH_PRELOAD_N submissions,
#      default 200, -j 2, best of 2; target: within 15 %);
#   4. the real nbgrader's autograde on BENCH_NBGRADER demo submissions
#      (default 10; 0 to skip) when ../shared/nbgrader runs here, else the
#      reference figure, labelled as such;
#   5. every exporter and `grader merge` at BENCH_EXPORT_N submissions
#      (default 10000; 0 to skip): time and peak RSS, by bench/export.sh
#      (target: every exporter under 64 MB at 10 000).
# Usage: sh bench/grade.sh [N] [path/to/grader]      (N defaults to 1000)
set -e
N=${1:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
grader=${2:-$root/build/grader}
BIG=${BENCH_BIG:-1000 10000}
PN=${BENCH_PRELOAD_N:-200}
NBGN=${BENCH_NBGRADER:-10}
EXN=${BENCH_EXPORT_N:-10000}
merge=
[ -x "$grader" ] || { echo "build first: make" >&2; exit 1; }
work=$(mktemp -d /tmp/grader-bench-grade.XXXXXX)
trap 'rm -rf "$work"' EXIT
ex=$root/rubrics/examples
PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH # Debian's python3, not a pyenv shim
weaker=
"$grader" doctor >/dev/null 2>&1 || weaker=--allow-weaker

# course and $kinds (the demo course's mix of submissions) come from lib.sh
# same DIR COUNT NOTEBOOK_DIR ASSIGNMENT: COUNT copies of one submission folder
same() {
	i=0
	while [ $i -lt "$2" ]; do
		mkdir -p "$1/s$i" && cp -r "$3" "$1/s$i/$4"
		i=$((i + 1))
	done
}

# run RUBRIC SUBS JOBS: grade everything afresh with GRADER_PROFILE;
# prints "seconds peak_rss_kb cells_seconds"
# (merge=1: regrade student s0 alone with --merge into the gradebook there; "seconds peak_rss_kb")
run() {
	[ -n "$merge" ] || rm -f "$work/gb.json" "$work/gb.json.journal"
	start=$(date +%s.%N)
	GRADER_PROFILE=1 "$grader" grade --rubric "$1" --submissions "$2" -o "$work/gb.json" \
		-j "$3" --quiet $weaker ${merge:+--student s0 --merge --force} 2>"$work/profile" &
	pid=$!
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
		sleep 0.1
	done
	wait "$pid" || { cat "$work/profile" >&2; return 1; }
	end=$(date +%s.%N)
	[ -n "$merge" ] && { echo "$(echo "$end - $start" | bc) $peak"; return 0; }
	cells=$(awk -F'  +' "/the cells' own compute/ {print \$2}" "$work/profile")
	echo "$(echo "$end - $start" | bc) $peak ${cells:-0}"
}
f() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

echo "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"

# ---- 1. the demo course at -j 1 and -j 2 ----------------------------------
"$grader" rubric release "$ex/ps1.json" -o "$work/release" >/dev/null 2>&1
/usr/bin/python3 "$ex/make_submissions.py" "$work/release/ps1.ipynb" "$work/kinds" >/dev/null
course "$work/sub" "$N" "$work/kinds" ps1
echo
echo "1. $N submissions of the demo course (8 scenarios, 5 test cells, numpy+matplotlib preloaded)"
set -- $(run "$ex/ps1.json" "$work/sub" 1); t1=$1; m1=$2; c1=$3
set -- $(run "$ex/ps1.json" "$work/sub" 2); t2=$1; m2=$2; c2=$3
printf '%-6s %9s %9s %15s %21s %16s\n' jobs seconds ms/each "cells ms/each" "above cells ms/each" "coordinator RSS"
# above the cells: wall per submission minus the cells' compute, shared by the workers
for j in 1 2; do
	eval t=\$t$j m=\$m$j c=\$c$j
	printf '%-6s %9.2f %9.1f %15.1f %21.1f %13s kB\n' "-j $j" "$t" "$(f "$t * 1000 / $N")" \
		"$(f "$c * 1000 / $N")" "$(f "($t - $c / $j) * 1000 / $N")" "$m"
done
printf 'scaling -j 2 / -j 1: %.2fx (target 1.8x; 2 cores, shared machine)\n' "$(f "$t1 / $t2" 3)"

# ---- 2. the coordinator's memory at scale ---------------------------------
mkdir -p "$work/tiny"
/usr/bin/python3 "$root/bench/make_notebook.py" tiny "$work/tiny/tiny.ipynb"
"$grader" rubric import "$work/tiny/tiny.ipynb" --assignment tiny --no-auto-preload \
	-o "$work/tiny.json" >/dev/null 2>&1
echo
echo "2. a tiny notebook (1 answer, 1 test, no import) at -j 2: the coordinator's peak RSS"
printf '%-12s %9s %9s %16s %28s\n' submissions seconds ms/each "coordinator RSS" \
	"--student s0 --merge RSS"
big_rss=
for n in $BIG; do
	rm -rf "$work/big"
	same "$work/big" "$n" "$work/tiny" tiny
	set -- $(run "$work/tiny.json" "$work/big" 2)
	merge=1
	set -- "$@" $(run "$work/tiny.json" "$work/big" 2)
	merge=
	printf '%-12s %9.2f %9.1f %13s kB %25s kB\n' "$n" "$1" "$(f "$1 * 1000 / $n")" "$2" "$5"
	big_rss="$big_rss $n:$2"
done
rm -rf "$work/big"
echo "target: under 65536 kB at 10 000, both"

# ---- 3. detected preloads against the right explicit --preload ------------
best() { # RUBRIC SUBS: best of 2 runs at -j 2, seconds
	set -- "$1" "$2" $(run "$1" "$2" 2) $(run "$1" "$2" 2)
	awk -v a="$3" -v b="$6" 'BEGIN { print (a < b) ? a : b }'
}
src=$ex/ps1/source
"$grader" rubric import "$src/ps1.ipynb" --assignment ps1 --data "$src/data.csv" \
	--cell-timeout 5 -o "$work/demo-auto.json" 2>/dev/null >/dev/null
"$grader" rubric import "$src/ps1.ipynb" --assignment ps1 --data "$src/data.csv" \
	--cell-timeout 5 --preload numpy,matplotlib,matplotlib.pyplot -o "$work/demo-hand.json" \
	>/dev/null 2>&1
course "$work/psub" "$PN" "$work/kinds" ps1
mkdir -p "$work/sci"
/usr/bin/python3 "$root/bench/make_notebook.py" sci "$work/sci/sci.ipynb"
"$grader" rubric import "$work/sci/sci.ipynb" --assignment sci -o "$work/sci-auto.json" \
	>/dev/null 2>&1
"$grader" rubric import "$work/sci/sci.ipynb" --assignment sci \
	--preload numpy,pandas,matplotlib,matplotlib.pyplot -o "$work/sci-hand.json" >/dev/null 2>&1
same "$work/ssub" "$PN" "$work/sci" sci
pl() { /usr/bin/python3 -c "import json,sys; print(','.join(json.load(open(sys.argv[1]))['preload']) or '-')" "$1"; }
echo
echo "3. $PN submissions at -j 2, best of 2: rubric imported with no flags vs explicit --preload"
printf '%-8s %-50s %9s %9s\n' course "preload" seconds ms/each
for c in demo sci; do
	sub=$work/psub
	[ $c = sci ] && sub=$work/ssub
	ta=$(best "$work/$c-auto.json" "$sub")
	th=$(best "$work/$c-hand.json" "$sub")
	printf '%-8s %-50s %9.2f %9.1f\n' "$c" "auto: $(pl "$work/$c-auto.json")" "$ta" "$(f "$ta * 1000 / $PN")"
	printf '%-8s %-50s %9.2f %9.1f\n' "$c" "hand: $(pl "$work/$c-hand.json")" "$th" "$(f "$th * 1000 / $PN")"
	printf '%-8s no flags / explicit: %.2fx (target at most 1.15x)\n' "$c" "$(f "$ta / $th" 3)"
done

# ---- 4. the real nbgrader --------------------------------------------------
echo
ROOT=$root
. "$root/tests/e2e/nbgrader.sh"
if [ "$NBGN" -gt 0 ] && [ -f "$NBG/nbgrader/__init__.py" ] &&
	HOME=$work/home nbg -m nbgrader --version >/dev/null 2>&1; then
	C=$work/nbcourse
	mkdir -p "$C/source/ps1" "$work/home"
	cp "$src/ps1.ipynb" "$src/data.csv" "$C/source/ps1/"
	nbg_config "$C" "Execute.timeout = 60"
	(cd "$C" && HOME=$work/home nbg -m nbgrader generate_assignment ps1 --create --force >"$work/nbg.log" 2>&1)
	# not grace's forgery: its os._exit leaves nbgrader waiting on a dead kernel
	# (timeout, interrupt, then no end: measured 2026-12-01)
	kinds="alice bob carol erin frank heidi ivan"
	course "$C/submitted" "$NBGN" "$work/kinds" ps1
	for s in $(ls "$C/submitted"); do
		(cd "$C" && HOME=$work/home nbg -m nbgrader db student add "$s" >>"$work/nbg.log" 2>&1) || true
	done
	start=$(date +%s.%N)
	(cd "$C" && HOME=$work/home nbg -m nbgrader autograde ps1 --force >>"$work/nbg.log" 2>&1) || true
	tn=$(echo "$(date +%s.%N) - $start" | bc)
	done_n=$(ls "$C/autograded" 2>/dev/null | wc -l)
	echo "4. the real nbgrader 0.9 (../shared/nbgrader), autograde of $NBGN demo submissions"
	echo "   (7 of the 8 scenarios, without the forgery; $done_n autograded)"
	printf '%-40s %9.2f s %9.0f ms/each\n' "nbgrader autograde" "$tn" "$(f "$tn * 1000 / $NBGN" 0)"
	printf '%-40s %9.1f ms/each: %.0fx faster than nbgrader\n' "grader grade -j 1 (section 1)" \
		"$(f "$t1 * 1000 / $N")" "$(f "($tn / $NBGN) / ($t1 / $N)" 0)"
	printf '%-40s %9.1f ms/each: %.0fx faster than nbgrader\n' "grader grade -j 2 (section 1)" \
		"$(f "$t2 * 1000 / $N")" "$(f "($tn / $NBGN) / ($t2 / $N)" 0)"
else
	echo "4. the real nbgrader: not run here (BENCH_NBGRADER=0, or ../shared/nbgrader unusable)"
	echo "   reference figure, not measured by this run: nbgrader autograde about 2.7 s per"
	echo "   submission for a 5-question notebook (the product's reference notes)"
	printf '%-40s %9.1f ms/each: %.0fx faster than that figure\n' "grader grade -j 2 (section 1)" \
		"$(f "$t2 * 1000 / $N")" "$(f "2.7 / ($t2 / $N)" 0)"
fi

# ---- 5. the exporters at scale ----------------------------------------------
echo
if [ "$EXN" -gt 0 ]; then
	echo "5. every exporter and grader merge on a synthetic gradebook of $EXN submissions (bench/export.sh)"
	sh "$root/bench/export.sh" "$EXN" "$grader"
else
	echo "5. the exporters: not run (BENCH_EXPORT_N=0; sh bench/export.sh runs them alone)"
fi
