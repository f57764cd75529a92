#!/bin/sh
# Run every cmocka unit test binary and every end-to-end script, then print
# one closing line "N passed, N failed, N skipped" (tests, not files); each
# skip prints its reason where it happens. CI sets REQUIRE_ROOT=1, which makes
# a test that would skip for want of root fail instead.
# Env: BUILD (default build) names the build folder holding grader and tests.
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
# ASan: fail on leaks in our own process; children that _exit() are not checked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allow_user_segv_handler=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "$BUILD"/tests/test_* $PLAIN_TESTS; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	name=$(basename "$t")
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
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
	E2E_RESULTS=$results sh "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
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
[ -n "$failures" ] && echo "failing:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
