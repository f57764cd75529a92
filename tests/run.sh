#!/bin/sh
# Run every cmocka unit test binary and every end-to-end script, then print
# one closing line "N passed, N failed, N skipped" (tests, not files); each
# skip prints its reason where it happens. CI sets REQUIRE_ROOT=1, which makes
# a test that would skip for want of root fail instead.
# Env: BUILD (default build) names the build folder holding grader and tests.
# Each test's wall seconds follow its output ("time NAME S s"); the 15
# slowest are listed at the end.
# Tests leave nothing behind: each test runs with its own empty TMPDIR, and
# the suite fails when a test left files there or grader-* directories in
# /tmp that it made (named at the end under "left behind").
BUILD=${BUILD:-build}
GRADER=$(cd "$(dirname "$BUILD/grader")" && pwd)/grader
export GRADER BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp)
times=$(mktemp)
# now: seconds since the epoch, to the millisecond
now() { date +%s.%3N; }
# took NAME START: print and note NAME's wall seconds since START
took() {
	awk -v n="$1" -v s="$2" -v e="$(now)" 'BEGIN { printf "time %s %.1f s\n", n, e - s }' |
		tee -a "$times"
}
suite_start=$(now)
# the box's users must reach a TMPDIR (grader nb puts its boxes there)
suite_tmp=$(mktemp -d /tmp/grader-suite.XXXXXX)
chmod 755 "$suite_tmp"
left=""
# grader-* (and the unit tests' test_*) entries in /tmp, one a line, sorted
tmp_grader() { ls -A /tmp 2>/dev/null | grep -E '^(grader-|test[_-])' | LC_ALL=C sort; }
# before_test NAME: a fresh TMPDIR and what /tmp holds now
before_test() {
	TMPDIR=$suite_tmp/$1
	export TMPDIR
	mkdir -p "$TMPDIR" && chmod 755 "$TMPDIR"
	tmp_grader >"$suite_tmp/.before"
}
# after_test NAME: what the test left in its TMPDIR; the grader-* entries it
# made in /tmp are noted in .made and checked at the end (others' runs on a
# shared machine make theirs too: an entry still alive, locked by a live
# grader, or another test's E2E folder is not this test's)
after_test() {
	stray=$(ls -A "$TMPDIR" 2>/dev/null | head -n 5 | tr '\n' ' ')
	[ -n "$stray" ] && left="$left
  $1: in its TMPDIR: $stray"
	rm -rf "$TMPDIR"
	unset TMPDIR
	tmp_grader | LC_ALL=C comm -13 "$suite_tmp/.before" - | while read -r d; do
		case "$d" in
		grader-suite.*) continue ;; # this suite's, or another suite's running beside it
		grader-"$1".*) ;;
		grader-test_* | grader-bench-*) continue ;; # another test's, bench/'s
		esac
		echo "$1 $d"
	done >>"$suite_tmp/.made"
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
	took "$name" "$t0"
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

for t in "$ROOT"/tests/e2e/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	results=$(mktemp)
	before_test "$name"
	t0=$(now)
	E2E_RESULTS=$results sh "$t" >"$log" 2>&1
	rc=$?
	after_test "$name"
	cat "$log"
	took "$name" "$t0"
	p=$(grep -c '^pass' "$results")
	f=$(grep -c '^fail' "$results")
	k=$(grep -c '^skip' "$results")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; failures="$failures $name(exit $rc)"
	elif [ "$f" -gt 0 ]; then
		failures="$failures $name"
	fi
	rm -f "$results"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done
rm -f "$log"
echo "slowest (wall seconds):"
sort -k3,3nr "$times" | head -n 15 | sed 's/^time /  /'
took "suite" "$suite_start"
rm -f "$times"
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
