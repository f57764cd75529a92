#!/bin/sh
# bench/fetch.sh [GRADER] - time `grader fetch` on 200 local repositories
# (first clone and incremental re-fetch) and on a 200-student Canvas zip,
# with -j 1 and -j 2, and print the ratios.
set -eu
GRADER=${1:-${GRADER:-build/grader}}
GRADER=$(cd "$(dirname "$GRADER")" && pwd)/$(basename "$GRADER")
N=${N:-200}
T=$(mktemp -d /tmp/grader-bench-fetch.XXXXXX)
trap 'rm -rf "$T"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
git config --global user.name b && git config --global user.email b@example.org
git config --global init.defaultBranch main

now() { /usr/bin/python3 -c 'import time; print(time.monotonic())'; }
elapsed() { /usr/bin/python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
ratio() { /usr/bin/python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

echo "building $N repositories and a $N-student Canvas zip in $T ..." >&2
/usr/bin/python3 - "$T" "$N" <<'PY'
import io, os, subprocess, sys, zipfile
t, n = sys.argv[1], int(sys.argv[2])
env = dict(os.environ, GIT_AUTHOR_DATE='2026-10-29T10:00:00Z', GIT_COMMITTER_DATE='2026-10-29T10:00:00Z')
nb = '{"cells": [%s], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
rows = ['student_id,repo']
with zipfile.ZipFile(os.path.join(t, 'canvas.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
    for i in range(n):
        sid = 's%03d' % i
        r = os.path.join(t, 'repos', sid)
        os.makedirs(os.path.join(r, 'data'))
        body = nb % ','.join(['{"cell_type": "code", "source": "x = %d"}' % k for k in range(40)])
        open(os.path.join(r, 'ps1.ipynb'), 'w').write(body)
        open(os.path.join(r, 'data', 'in.csv'), 'w').write('a,b\n' * 500)
        open(os.path.join(r, 'helper.py'), 'w').write('def f():\n    return %d\n' % i)
        subprocess.run(['git', 'init', '-q', r], check=True)
        subprocess.run(['git', '-C', r, 'add', '-A'], check=True)
        subprocess.run(['git', '-C', r, 'commit', '-qm', 'work'], check=True, env=env)
        rows.append('%s,repos/%s' % (sid, sid))
        z.writestr('student%03d_%d_%d_ps1.ipynb' % (i, 1000 + i, 50000 + i), body)
        z.writestr('student%03d_%d_%d_in.csv' % (i, 1000 + i, 60000 + i), 'a,b\n' * 500)
        z.writestr('student%03d_%d_%d_helper.py' % (i, 1000 + i, 70000 + i), 'x = %d\n' % i)
open(os.path.join(t, 'roster.csv'), 'w').write('\n'.join(rows) + '\n')
PY

REPS=${REPS:-3}
# best of REPS runs (the machine is shared); FRESH=1 removes DEST before each
best() { # best FRESH DEST ARGS...
	fresh=$1 dest=$2; shift 2; b=""
	for _ in $(seq "$REPS"); do
		[ "$fresh" = 1 ] && rm -rf "$dest"
		s=$(now); "$GRADER" fetch "$@" --dest "$dest" >/dev/null 2>"$T/err" ||
			{ cat "$T/err" >&2; exit 1; }; e=$(now)
		t=$(elapsed "$s" "$e")
		b=$(/usr/bin/python3 -c "import sys; a=sys.argv[1:]; print(min(a, key=float) if a[0] else a[1])" "$b" "$t")
	done
	echo "$b"
}
cd "$T"
g1=$(best 1 d1 git --roster roster.csv --assignment ps1 -j 1)
g2=$(best 1 d2 git --roster roster.csv --assignment ps1 -j 2)
i1=$(best 0 d1 git --roster roster.csv --assignment ps1 -j 1)
i2=$(best 0 d2 git --roster roster.csv --assignment ps1 -j 2)
a1=$(best 1 a1 archive canvas.zip --assignment ps1 -j 1)
a2=$(best 1 a2 archive canvas.zip --assignment ps1 -j 2)
test "$(ls d1 | grep -c '^s')" -eq "$N" && test "$(ls a1 | wc -l)" -eq "$N"
printf '%-44s %8s %8s %8s\n' "fetch ($N students, $(nproc) cores, best of $REPS)" "-j 1" "-j 2" "j1/j2"
printf '%-44s %7ss %7ss %8s\n' "git: first fetch (clone into cache)" "$g1" "$g2" "$(ratio "$g1" "$g2")"
printf '%-44s %7ss %7ss %8s\n' "git: re-fetch (incremental, unchanged)" "$i1" "$i2" "$(ratio "$i1" "$i2")"
printf '%-44s %7ss %7ss %8s\n' "archive: Canvas zip, 3 files per student" "$a1" "$a2" "$(ratio "$a1" "$a2")"
