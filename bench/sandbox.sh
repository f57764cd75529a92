#!/bin/sh
# Cost of the sandbox: `grader run -- CMD` against CMD run bare, for /bin/true
# and `python3 -S -c pass`; N rounds (default 50), bare and boxed interleaved
# so that the noise of a shared machine hits both alike; medians side by side.
# "run ms" is the run's own wall time as the sandbox reports it: the library's
# cost per run (what the notebook engine pays), without the CLI's start-up
# (loading the grader binary, probing the host, compiling the seccomp filter,
# creating the slot's cgroups). Usage: sh bench/sandbox.sh [GRADER] [N]
GRADER=${1:-build/grader}
N=${2:-50}
WEAK=
[ "$(id -u)" = 0 ] || WEAK=--allow-weaker
exec /usr/bin/python3 - "$GRADER" "$N" $WEAK <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time
grader, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
meta = tempfile.mktemp(prefix="grader-bench.")
def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
print(f"{'command':28} {'bare ms':>8} {'grader run ms':>14} {'ratio':>6} {'overhead ms':>12} {'run ms':>7} {'run overhead ms':>16}")
for cmd in (["/bin/true"], ["/usr/bin/python3", "-S", "-c", "pass"]):
    bare, boxed, run = [], [], []
    for _ in range(n):
        bare.append(timed(cmd))
        boxed.append(timed([grader, "run", *extra, "--meta", meta, "--", *cmd]))
        run.append(json.load(open(meta))["wall"] * 1000)
    b, x, r = (statistics.median(v) for v in (bare, boxed, run))
    print(f"{' '.join(cmd):28} {b:8.2f} {x:14.2f} {x / b:6.1f} {x - b:12.2f} {r:7.2f} {r - b:16.2f}")
os.unlink(meta)
PY
