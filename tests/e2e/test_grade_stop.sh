#!/bin/sh
# `grader grade` and `grader merge` stopped as a batch scheduler stops them: SIGTERM to the grader
# alone (a deleted Kubernetes pod) and SIGINT to its whole process group
# (Ctrl-C; scancel signals every process of the step). Each time: exit status
# 128 + the signal, one line saying what was kept, no work directory left in
# $TMPDIR, a journal of whole entries, and a rerun that reuses them and writes
# the gradebook of an uninterrupted run.
. "$(dirname "$0")/lib.sh"
need_root "grade stops on a signal"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"
# 12 more students whose answer sleeps: long enough a run to stop in the middle
/usr/bin/python3 "$ROOT/tests/e2e/make_slow.py" "$T/sub" 12 0.5
total=$(ls "$T/sub" | wc -l)
mkdir "$T/tmp"
TMPDIR=$T/tmp "$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/full.json" \
	-j 2 -q
check "the uninterrupted run exits 0" test $? -eq 0

# journal_lines FILE: its whole lines (a torn last one is not counted)
journal_lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# stop_run NAME SIG GROUP: grade into $T/NAME.json, send SIG once 2 entries
# are journaled (to the process group when GROUP is 1), record the exit status
stop_run() {
	rm -f "$T/$1.pid"
	# the grader leads its own process group, as a terminal's foreground job
	# does, with SIGINT caught (sh ignores it in a background job)
	TMPDIR=$T/tmp /usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
open(sys.argv[1], "w").write("%d\n" % os.getpid())
os.execv(sys.argv[2], sys.argv[2:])' "$T/$1.pid" "$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" \
		-o "$T/$1.json" -j 2 2>"$T/$1.err" &
	waiter=$!
	tries=0
	while [ ! -s "$T/$1.pid" ] && [ $tries -lt 100 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	pid=$(cat "$T/$1.pid")
	tries=0
	while [ "$(journal_lines "$T/$1.json.journal")" -lt 2 ] && [ $tries -lt 600 ] &&
		kill -0 $pid 2>/dev/null; do
		sleep 0.1
		tries=$((tries + 1))
	done
	if [ "$3" = 1 ]; then kill -"$2" -"$pid"; else kill -"$2" "$pid"; fi
	wait $waiter
	echo $? >"$T/$1.rc"
}

for run in "term TERM 0 143" "int INT 1 130"; do
	set -- $run
	name=$1 sig=$2 group=$3 want=$4
	stop_run "$name" "$sig" "$group"
	check "SIG$sig: exit status $want" test "$(cat "$T/$name.rc")" -eq "$want"
	grep -v '^graded \|^error \|^missing ' "$T/$name.err" >"$T/$name.lines"
	check "SIG$sig: one line on stderr says what was kept" \
		grep -q "^grader grade: stopped by SIG$sig: [0-9]* of $total submissions kept in '$T/$name.json.journal'" \
		"$T/$name.lines"
	check "SIG$sig: that line alone besides the progress" test "$(wc -l <"$T/$name.lines")" -eq 1
	kept=$(sed -n "s/^grader grade: stopped by SIG$sig: \([0-9]*\) of .*/\1/p" "$T/$name.lines")
	check "SIG$sig: stopped in the middle ($kept of $total kept)" \
		test "${kept:-0}" -ge 2 -a "${kept:-0}" -lt "$total"
	check "SIG$sig: no work directory left in TMPDIR" test -z "$(ls -A "$T/tmp")"
	# workers and zygotes are forks of the grader: the same command line
	i=0
	while pgrep -f -- "-o $T/$name.json" >/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "SIG$sig: no process of the run is left" sh -c "! pgrep -f -- '-o $T/$name[.]json' >/dev/null"
	check "SIG$sig: no gradebook written" test ! -e "$T/$name.json"
	check "SIG$sig: the journal holds whole entries only" /usr/bin/python3 -c "
import json, sys
data = open(sys.argv[1]).read()
assert data.endswith('\n')
for line in data.splitlines():
    json.loads(line)" "$T/$name.json.journal"
	check "SIG$sig: the journal holds what was kept" \
		test "$(journal_lines "$T/$name.json.journal")" -eq "$kept"
	TMPDIR=$T/tmp "$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" \
		-o "$T/$name.json" -j 2 2>"$T/$name.rerun"
	check "SIG$sig: the rerun exits 0" test $? -eq 0
	check "SIG$sig: the rerun reuses the $kept kept" grep -q " $kept unchanged," \
		"$T/$name.rerun"
	/usr/bin/python3 "$ROOT/tests/e2e/gb_same.py" "$T/full.json" "$T/$name.json" >"$T/$name.cmp"
	check "SIG$sig: the rerun's gradebook is the uninterrupted run's ($(cat "$T/$name.cmp"))" \
		grep -q "^equal $total submissions" "$T/$name.cmp"
	check "SIG$sig: no work directory left after the rerun" test -z "$(ls -A "$T/tmp")"
done

# merge: a part that never comes (a FIFO nothing is written to) holds it until SIGTERM;
# the gradebook already there is left as it was, no temporary file beside it
mkdir "$T/m"
cp "$T/full.json" "$T/m/out.json"
mkfifo "$T/never.json"
"$GRADER" merge "$T/full.json" "$T/never.json" -o "$T/m/out.json" 2>"$T/merge.err" &
pid=$!
exec 3>"$T/never.json" # returns once the merge has opened the part: it waits in read
kill -TERM $pid
# the read goes on after the signal: end the part, the merge then finds its flag
exec 3>&-
wait $pid
echo $? >"$T/merge.rc"
check "merge: SIGTERM gives exit status 143" test "$(cat "$T/merge.rc")" -eq 143
check "merge: one line says nothing was written" test "$(wc -l <"$T/merge.err")" -eq 1 -a \
	"$(grep -c "^grader merge: stopped by SIGTERM: nothing written to '$T/m/out.json'" \
		"$T/merge.err")" -eq 1
check "merge: the output is left as it was" cmp -s "$T/full.json" "$T/m/out.json"
check "merge: no temporary file left" test "$(ls -A "$T/m")" = out.json
finish
