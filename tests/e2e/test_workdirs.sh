#!/bin/sh
# Work directories (student files) do not outlive their grader: a `grader run`,
# `grader nb run` or `grader grade` killed with SIGKILL leaves its directory,
# the next run removes it, and never a live run's or one it did not make; a
# box holding a tree deeper than the grader has descriptors is still removed.
# e2e: alone (any grader run beside it would remove the dead run's directory)
. "$(dirname "$0")/lib.sh"
need_root "work directories of sandboxed runs"
T=$E2E_TMP
# dirs_of PID PREFIX [PARENT]: the work directories whose lock names PID
dirs_of() {
	for d in "${3:-/tmp}/$2".*; do
		[ -f "$d/.lock" ] && [ "$(cat "$d/.lock" 2>/dev/null)" = "$1" ] && echo "$d"
	done
}
# wait_dir PID PREFIX [PARENT]: until PID has made its directory (30 s at most: a
# loaded machine starts a grader slowly)
wait_dir() {
	i=0
	while [ -z "$(dirs_of "$@")" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	dirs_of "$@"
}

# grader run: killed, live, foreign
"$GRADER" run --wall 60 -- /bin/sleep 50 >/dev/null 2>&1 &
dead=$!
"$GRADER" run --slot 1 --wall 60 -- /bin/sleep 4 >/dev/null 2>&1 &
live=$!
dead_dir=$(wait_dir $dead grader-run)
live_dir=$(wait_dir $live grader-run)
foreign=$(mktemp -d /tmp/grader-run.XXXXXX)
check "grader run: a locked work directory each" test -n "$dead_dir" -a -n "$live_dir"
kill -9 $dead
wait $dead 2>/dev/null
check "grader run killed with SIGKILL: its directory stays" test -d "$dead_dir"
"$GRADER" run -- /bin/true 2>"$T/err"
check "the next grader run succeeds" test $? -eq 0
check "... and removed the dead run's directory" test ! -e "$dead_dir"
check "... not the live run's" test -d "$live_dir/box"
check "... nor one without a lock (not ours)" test -d "$foreign"
rmdir "$foreign"
wait $live
check "a run that ends removes its own" test ! -e "$live_dir"

# grader nb run, in TMPDIR
mkdir "$T/tmpd" "$T/nb"
printf '# %%%%\nimport time\ntime.sleep(50)\n' >"$T/nb/slow.py"
printf '# %%%%\n1 + 1\n' >"$T/nb/quick.py"
TMPDIR=$T/tmpd "$GRADER" nb run "$T/nb/slow.py" >/dev/null 2>&1 &
nbpid=$!
nb_dir=$(wait_dir $nbpid grader-nb "$T/tmpd")
check "nb run: a locked work directory in TMPDIR" test -n "$nb_dir"
sleep 0.5
kill -9 $nbpid
wait $nbpid 2>/dev/null
check "nb run killed with SIGKILL: its directory stays" test -d "$nb_dir"
sleep 0.5 # its zygote and box die with it
TMPDIR=$T/tmpd "$GRADER" nb run "$T/nb/quick.py" >/dev/null 2>"$T/err"
check "the next nb run succeeds" test $? -eq 0
check "... and leaves TMPDIR empty: the dead run's directory and its own are gone" \
	test -z "$(ls -A "$T/tmpd")"

# grader grade: its workers' scratch directories
ex="$ROOT/rubrics/examples"
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"
setsid "$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 2 \
	>/dev/null 2>&1 &
gpid=$!
i=0
while [ $i -lt 100 ]; do
	workers=$(pgrep -g $gpid | grep -v "^$gpid\$")
	stale=$(for w in $workers; do dirs_of "$w" grader-work "${TMPDIR:-/tmp}"; done)
	[ -n "$stale" ] && break
	sleep 0.1
	i=$((i + 1))
done
check "grade: a locked scratch directory per worker" test -n "$stale"
kill -9 -$gpid
wait $gpid 2>/dev/null
sleep 0.5
# shellcheck disable=SC2086
check "grade killed with SIGKILL: the scratch directories stay" sh -c 'for d; do test -d "$d" || exit 1; done' sh $stale
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb2.json" -j 1 2>"$T/log"
check "the next grade succeeds" test $? -eq 0
# shellcheck disable=SC2086
check "... and removed them" sh -c 'for d; do test ! -e "$d" || exit 1; done' sh $stale

# A box that leaves 3000 nested folders (more than the grader's descriptors)
cat >"$T/deep.py" <<'PY'
import os
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
open("f", "w").close()
PY
mkdir "$T/ro"
cp "$T/deep.py" "$T/ro/"
ulimit -n 1024
"$GRADER" run --ro "$T/ro" -- /usr/bin/python3 "$T/ro/deep.py" >"$T/out" 2>"$T/err" &
deep=$!
deep_dir=$(wait_dir $deep grader-run)
wait $deep
check "3000 nested folders made in the box" test $? -eq 0
[ -n "$deep_dir" ] || echo "  (the run's work directory was not seen while it ran)"
# whatever the directory was called: no tree of the box's folders is left under /tmp
check "... and removed with the work directory" \
	test -z "$(find /tmp -maxdepth 4 -type d -name d -path '/tmp/grader-run.*' 2>/dev/null)"
check "... silently: nothing to report" test ! -s "$T/err"
finish
