#!/bin/sh
# Cost of the sandbox: `grader run -- CMD` against CMD run bare, for /bin/true
# and `python3 -S -c pass`; N runs each (default 50), median, side by side.
# Also the run's own wall time as the sandbox reports it (the library's cost
# per run, without the CLI's start-up: probe, seccomp compile, cgroup set-up).
# Usage: sh bench/sandbox.sh [GRADER] [N]   (root gives the full sandbox)
GRADER=${1:-build/grader}
N=${2:-50}
WEAK=
[ "$(id -u)" = 0 ] || WEAK=--allow-weaker
exec /usr/bin/python3 - "$GRADER" "$N" $WEAK <<'PY'
import json, statistics, subprocess, sys, tempfile, time
grader, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def med(cmd):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000
def inner(cmd):
    ws = []
    with tempfile.NamedTemporaryFile() as m:
        for _ in range(n):
            subprocess.run([grader, "run", *extra, "--meta", m.name, "--", *cmd],
                           stdout=subprocess.DEVNULL)
            ws.append(json.load(open(m.name))["wall"])
    return statistics.median(ws) * 1000
print(f"{'command':28} {'bare ms':>8} {'grader run ms':>14} {'ratio':>6} {'overhead ms':>12} {'run wall ms':>12}")
for cmd in (["/bin/true"], ["/usr/bin/python3", "-S", "-c", "pass"]):
    bare = med(cmd)
    boxed = med([grader, "run", *extra, "--", *cmd])
    w = inner(cmd)
    print(f"{' '.join(cmd):28} {bare:8.2f} {boxed:14.2f} {boxed / bare:6.1f} {boxed - bare:12.2f} {w:12.2f}")
PY
