#!/bin/sh
# Run every cmocka unit test binary and every end-to-end script, then print
# one closing line "N passed, N failed, N skipped" (tests, not files); each
# skip prints its reason where it happens. CI sets REQUIRE_ROOT=1, which makes
# a test that would skip for want of root fail instead.
# Env: BUILD (default build) names the build folder holding grader and tests;
# E2E_JOBS (default 2) how many end-to-end scripts run at a time. A script
# holding the line "# e2e: alone" (it looks at the whole machine: all of /tmp,
# every process) runs with nothing beside it. Each script's output is printed
# whole when it ends, in the order of their names, with its wall seconds
# ("time NAME S s"); the 15 slowest are listed at the end.
# Tests leave nothing behind: each test runs with its own empty TMPDIR, and
# the suite fails when a test left files there or grader-* directories in
# /tmp that it made (named at the end under "left behind").
BUILD=${BUILD:-build}
GRADER=$(cd "$(dirname "$BUILD/grader")" && pwd)/grader
export GRADER BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
E2E_JOBS=${E2E_JOBS:-2}
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp)
# the box's users must reach a TMPDIR (grader nb puts its boxes there)
suite_tmp=$(mktemp -d /tmp/grader-suite.XXXXXX)
chmod 755 "$suite_tmp"
# each e2e script's output, results, exit code and time, until it is counted
q=$suite_tmp/.e2e
mkdir "$q"
: >"$suite_tmp/.left"
: >"$suite_tmp/.made"
: >"$suite_tmp/.times"
# now: seconds since the epoch, to the millisecond
now() { date +%s.%3N; }
# took NAME START: "time NAME S s", the wall seconds since START
took() { awk -v n="$1" -v s="$2" -v e="$(now)" 'BEGIN { printf "time %s %.1f s\n", n, e - s }'; }
suite_start=$(now)
# grader-* (and the unit tests' test_*) entries in /tmp, one a line, sorted
tmp_grader() { ls -A /tmp 2>/dev/null | grep -E '^(grader-|test[_-])' | LC_ALL=C sort; }
# before_test NAME: a fresh TMPDIR and what /tmp holds now
before_test() {
	TMPDIR=$suite_tmp/$1
	export TMPDIR
	mkdir -p "$TMPDIR" && chmod 755 "$TMPDIR"
	tmp_grader >"$suite_tmp/.before.$1"
}
# after_test NAME: what the test left in its TMPDIR; the grader-* entries it
# made in /tmp are noted in .made and checked at the end (others' runs on a
# shared machine make theirs too: an entry still alive, locked by a live
# grader, or another test's E2E folder is not this test's; an entry made
# while two scripts ran is noted for both)
after_test() {
	stray=$(ls -A "$TMPDIR" 2>/dev/null | head -n 5 | tr '\n' ' ')
	[ -n "$stray" ] && echo "  $1: in its TMPDIR: $stray" >>"$suite_tmp/.left"
	rm -rf "$TMPDIR"
	unset TMPDIR
	tmp_grader | LC_ALL=C comm -13 "$suite_tmp/.before.$1" - | while read -r d; do
		case "$d" in
		grader-suite.*) continue ;; # this suite's, or another suite's running beside it
		grader-"$1".*) ;;
		grader-test_* | grader-bench-*) continue ;; # another test's, bench/'s
		esac
		echo "$1 $d"
	done >>"$suite_tmp/.made"
	rm -f "$suite_tmp/.before.$1"
}
# alive DIR: a grader work directory whose owner still holds its lock
alive() { [ -f "$1/.lock" ] && ! flock -n "$1/.lock" true 2>/dev/null; }
# ASan: fail on leaks in our own process; children that _exit() are not checked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allow_user_segv_handler=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "$BUILD"/tests/test_* $PLAIN_TESTS; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	name=$(basename "$t")
	before_test "$name"
	t0=$(now)
	"$t" >"$log" 2>&1
	rc=$?
	after_test "$name"
	cat "$log"
	took "$name" "$t0" | tee -a "$suite_tmp/.times"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}; f=${f:-0}; k=${k:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; failures="$failures $name(crashed rc=$rc)"
	elif [ "$f" -gt 0 ]; then
		failures="$failures $name"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done

# e2e_run SCRIPT: run one end-to-end script in its own TMPDIR, its output in
# $q/NAME.log, its results in $q/NAME.res, its exit code in $q/NAME.rc and
# its time in $q/NAME.time; $q/NAME.done says it has ended
e2e_run() {
	name=$(basename "$1" .sh)
	: >"$q/$name.res"
	before_test "$name"
	t0=$(now)
	E2E_RESULTS=$q/$name.res sh "$1" >"$q/$name.log" 2>&1
	echo $? >"$q/$name.rc"
	after_test "$name"
	took "$name" "$t0" >"$q/$name.time"
	: >"$q/$name.done"
}
# e2e_lane SCRIPT...: run, in order, each of the scripts no other lane took
e2e_lane() {
	for t in "$@"; do
		mkdir "$q/$(basename "$t" .sh).taken" 2>/dev/null && e2e_run "$t"
	done
}
# e2e_count SCRIPT: wait for the script to end, print its output and count it
e2e_count() {
	name=$(basename "$1" .sh)
	while [ ! -e "$q/$name.done" ]; do sleep 0.2; done
	cat "$q/$name.log" "$q/$name.time"
	cat "$q/$name.time" >>"$suite_tmp/.times"
	rc=$(cat "$q/$name.rc")
	p=$(grep -c '^pass' "$q/$name.res")
	f=$(grep -c '^fail' "$q/$name.res")
	k=$(grep -c '^skip' "$q/$name.res")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; failures="$failures $name(exit $rc)"
	elif [ "$f" -gt 0 ]; then
		failures="$failures $name"
	fi
	# its .taken stays: a lane behind the others must not take it again
	rm -f "$q/$name.log" "$q/$name.res" "$q/$name.rc" "$q/$name.time" "$q/$name.done"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
}

alone= together=
for t in "$ROOT"/tests/e2e/test_*.sh; do
	[ -f "$t" ] || continue
	if grep -q '^# e2e: alone' "$t"; then alone="$alone $t"; else together="$together $t"; fi
done
# those that must run alone first, one after the other
for t in $alone; do
	e2e_run "$t"
	e2e_count "$t"
done
# then the others, E2E_JOBS at a time, each lane taking the next script left
lanes=
i=0
while [ $i -lt "$E2E_JOBS" ]; do
	# the list split on purpose: the names hold no space
	e2e_lane $together &
	lanes="$lanes $!"
	i=$((i + 1))
done
for t in $together; do
	e2e_count "$t"
done
for l in $lanes; do wait "$l"; done
rm -f "$log"
echo "slowest (wall seconds):"
sort -k3,3nr "$suite_tmp/.times" | head -n 15 | sed 's/^time /  /'
took suite "$suite_start"
# left_made: what tests made in /tmp that is still there, not a live grader's
left_made() {
	while read -r who d; do
		[ -e "/tmp/$d" ] || continue
		alive "/tmp/$d" && continue
		echo "  $who: /tmp/$d"
	done <"$suite_tmp/.made"
}
made=$(left_made)
# others' short runs (a rubric validation, an upload) end within seconds
if [ -n "$made" ]; then
	sleep 10
	made=$(left_made)
fi
left=
[ -s "$suite_tmp/.left" ] && left="
$(cat "$suite_tmp/.left")"
[ -n "$made" ] && left="$left
$made"
rm -rf "$suite_tmp"
if [ -n "$left" ]; then
	echo "left behind:$left"
	failed=$((failed + 1)); failures="$failures (left-behind)"
fi
[ -n "$failures" ] && echo "failing:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
