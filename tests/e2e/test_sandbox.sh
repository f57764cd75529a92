#!/bin/sh
# `grader run` and `grader doctor`: flags, defaults, exit codes, the result JSON,
# the work directory, the environment and read-only paths.
. "$(dirname "$0")/lib.sh"
# A slot (uid) of our own: other runs of this suite may share the machine.
SLOT=$((1001 + $$ % 2000 * 2))
UID_BOX=$((61000 + SLOT))
has_key() { json_get "$E2E_TMP/m.json" "[\"$1\"]" >/dev/null; }

"$GRADER" run --help >"$E2E_TMP/h"; check "run --help exits 0" test $? -eq 0
for f in --time --wall --mem --procs --fsize --output --tmp --nofile --dir --ro --env --slot --meta --allow-weaker; do
	check "run --help lists $f" grep -q -- "$f" "$E2E_TMP/h"
done
check "run --help shows the default memory" grep -q 'default 512' "$E2E_TMP/h"
"$GRADER" run --time abc -- /bin/true 2>"$E2E_TMP/e"; rc=$?
check "bad value exits 2" test $rc -eq 2
check "bad value is named" grep -q "bad value 'abc' for '--time'" "$E2E_TMP/e"
"$GRADER" run 2>/dev/null; check "missing command exits 2" test $? -eq 2
"$GRADER" doctor --help >"$E2E_TMP/h"; check "doctor --help exits 0" test $? -eq 0

need_root "sandbox runs and doctor on a complete host"

"$GRADER" doctor >"$E2E_TMP/doc"; rc=$?
check "doctor exits 0 on a complete host" test $rc -eq 0
for l in "namespace   pid" "namespace   network" "cgroup memory" "seccomp filter" "uid switching" "test run"; do
	check "doctor reports '$l'" grep -q "^$l" "$E2E_TMP/doc"
done

box=$E2E_TMP/box
mkdir "$box"
echo "given" >"$box/input.txt"
out=$("$GRADER" run --slot $SLOT --dir "$box" --meta "$E2E_TMP/m.json" -- sh -c 'cat input.txt; echo made >out.txt; pwd; id -u')
check "output passes through" test "$out" = "given
/box
$UID_BOX"
check "files written in the box appear in DIR" grep -q made "$box/out.txt"
check "meta status OK" test "$(json_get "$E2E_TMP/m.json" '["status"]')" = OK
for k in exitcode signal time wall max_rss_kb killed message; do
	check "meta has $k" has_key "$k"
done

"$GRADER" run --slot $SLOT --meta - -- sh -c 'exit 7' >"$E2E_TMP/m7"; rc=$?
check "non-zero exit -> exit status 1" test $rc -eq 1
check "non-zero exit -> RE" grep -q '"status": "RE"' "$E2E_TMP/m7"
check "exit code reported" grep -q '"exitcode": 7' "$E2E_TMP/m7"

"$GRADER" run --slot $SLOT --meta - -- no-such-command >"$E2E_TMP/mx" 2>&1
check "missing program -> XX" grep -q '"status": "XX"' "$E2E_TMP/mx"

env_out=$("$GRADER" run --slot $SLOT --env FOO=bar -- /usr/bin/env | sort | tr '\n' ' ')
check "clean environment" test "$env_out" = "FOO=bar HOME=/box LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin TMPDIR=/tmp "

mkdir -p "$E2E_TMP/data"; echo shared >"$E2E_TMP/data/f"
out=$("$GRADER" run --slot $SLOT --ro "$E2E_TMP/data" -- sh -c "cat $E2E_TMP/data/f; echo x >$E2E_TMP/data/g" 2>/dev/null)
check "--ro path readable" test "$out" = shared
check "--ro path not writable" test ! -e "$E2E_TMP/data/g"

hn=$("$GRADER" run --slot $SLOT -- /bin/hostname)
check "own hostname" test "$hn" = box
n=$("$GRADER" run --slot $SLOT -- sh -c 'ls /proc | grep -c "^[0-9]"')
check "fresh /proc shows only the box" test "$n" -le 4
out=$("$GRADER" run --slot $SLOT -- /usr/bin/python3 -c 'import numpy; print(int(numpy.arange(5).sum()))' 2>&1)
check "python3 with numpy runs under the default limits" test "$out" = 10
# /dev's nodes are the host's inodes: the box writes to the devices, never on
# the inodes (their times would be a channel between boxes, and a write outside)
before=$(stat -c %Y /dev/null)
out=$("$GRADER" run --slot $SLOT -- sh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c; touch /dev/null /dev/zero /dev/urandom 2>/dev/null; echo touch=$?')
check "/dev nodes: writing and reading the devices works" test "$(echo "$out" | head -1)" = 4
check "/dev nodes: their times cannot be set" test "$(echo "$out" | tail -1)" = touch=1
check "/dev nodes: the host's /dev/null unchanged" test "$(stat -c %Y /dev/null)" = "$before"
check "no process left for the slot uid" test -z "$(pgrep -u $UID_BOX)"

# A weaker host: the same machine seen by an unprivileged user (user
# namespace, no writable cgroups, no uid switching).
if command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups "$GRADER" --version >/dev/null 2>&1; then
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	wbox=$E2E_TMP/weak
	wbin=$E2E_TMP/weak-bin # read-only in the box: nothing runs from DIR (noexec)
	mkdir "$wbox" "$wbin"
	cp "$BUILD/tests/hostile/syscalls" "$BUILD/tests/hostile/snoop" "$BUILD/tests/hostile/nativecode" "$wbin/"
	chown -R nobody "$wbox" "$wbin"
	as_nobody "$GRADER" doctor >"$E2E_TMP/wdoc"; rc=$?
	check "doctor as nobody exits 1" test $rc -eq 1
	check "doctor as nobody names what is missing" grep -q "WEAKER: missing cgroup memory" "$E2E_TMP/wdoc"
	(cd "$wbox" && as_nobody "$GRADER" run --dir "$wbox" -- /bin/true) 2>"$E2E_TMP/e"; rc=$?
	check "weaker host: run refused" test $rc -eq 1
	check "weaker host: refusal explained" grep -q "refusing to run untrusted code" "$E2E_TMP/e"
	(cd "$wbox" && as_nobody "$GRADER" run --allow-weaker --dir "$wbox" --ro "$wbin" -- "$wbin/syscalls") >"$E2E_TMP/o" 2>&1
	check "weaker host, --allow-weaker: seccomp policy holds" grep -q "^all refused" "$E2E_TMP/o"
	(cd "$wbox" && as_nobody "$GRADER" run --allow-weaker --dir "$wbox" --ro "$wbin" -- "$wbin/snoop" "$box") >"$E2E_TMP/o" 2>&1
	check "weaker host, --allow-weaker: files outside the box refused" grep -q "^all refused" "$E2E_TMP/o"
	(cd "$wbox" && as_nobody "$GRADER" run --allow-weaker --dir "$wbox" --ro "$wbin" -- "$wbin/nativecode") >"$E2E_TMP/o" 2>&1
	check "weaker host, --allow-weaker: no native code from writable places, W^X" \
		sh -c "! grep -e 'NOT REFUSED' -e FAILED '$E2E_TMP/o' && grep -q 'dlopen /box/libm-copy.so *refused' '$E2E_TMP/o'"
	out=$(cd "$wbox" && as_nobody "$GRADER" run --allow-weaker --dir "$wbox" -- sh -c 'echo x >/dev/null && touch /dev/null 2>/dev/null; echo touch=$?' 2>/dev/null)
	check "weaker host, --allow-weaker: /dev/null written, its times not set" test "$out" = touch=1
fi
finish
