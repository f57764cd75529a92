#!/bin/sh
# Cost of the sandbox, side by side, medians of N interleaved rounds
# (default 50) so that the noise of a shared machine hits both alike.
#  1. `grader run -- CMD` against CMD run bare, for /bin/true and
#     `python3 -S -c pass`: the CLI end to end (a cold sandbox per run: loading
#     the binary, probing, compiling the filter, creating the cgroups).
#     "run ms" is the run's own wall time as the result reports it.
#  2. The library with a warm sandbox, as the notebook engine uses it:
#     sbx_run_cmd against a bare fork+exec, and sbx_run_fn of a function that
#     returns at once (bench/sandbox_loop.c, built against $BUILD).
# Usage: sh bench/sandbox.sh [BUILD] [N]   (root gives the full sandbox)
BUILD=${1:-build}
N=${2:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEAK=
[ "$(id -u)" = 0 ] || WEAK=--allow-weaker
make -s -C "$ROOT" BUILD="$BUILD" "$BUILD/grader" >/dev/null || exit 1
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
loop=$B/bench/sandbox_loop
mkdir -p "$B/bench"
cc -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT/include" -o "$loop" "$ROOT/bench/sandbox_loop.c" \
	"$B/libsandbox.a" "$B/libgrader.a" $(pkg-config --libs libseccomp jansson libcrypto) || exit 1
echo "== grader run (CLI, a cold sandbox each time)"
/usr/bin/python3 - "$B/grader" "$N" $WEAK <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time
grader, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
fd, meta = tempfile.mkstemp(prefix="grader-bench.")
os.close(fd)
def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
print(f"{'command':28} {'bare ms':>8} {'grader run ms':>14} {'ratio':>6} {'overhead ms':>12} {'run ms':>7}")
for cmd in (["/bin/true"], ["/usr/bin/python3", "-S", "-c", "pass"]):
    bare, boxed, run = [], [], []
    for _ in range(n):
        bare.append(timed(cmd))
        boxed.append(timed([grader, "run", *extra, "--meta", meta, "--", *cmd]))
        run.append(json.load(open(meta))["wall"] * 1000)
    b, x, r = (statistics.median(v) for v in (bare, boxed, run))
    print(f"{' '.join(cmd):28} {b:8.2f} {x:14.2f} {x / b:6.1f} {x - b:12.2f} {r:7.2f}")
os.unlink(meta)
PY
echo "== library, warm sandbox (sbx_run_cmd / sbx_run_fn)"
printf '%-28s %8s %14s %6s %12s %10s\n' command "bare ms" "sandboxed ms" ratio "overhead ms" "fn ms"
for cmd in /bin/true "/usr/bin/python3 -S -c pass"; do
	# shellcheck disable=SC2086
	$loop "$N" $cmd | awk -v c="$cmd" \
		'{ printf "%-28s %8.2f %14.2f %6.1f %12.2f %10.2f\n", c, $1, $2, $2 / $1, $2 - $1, $3 }'
done
