#!/bin/sh
# Hostile programs (tests/hostile/*.c) through the real sandbox via `grader run`.
# After each: the right status, the host and this script unharmed, and no
# process of the run left (the slot's uid owns nothing).
# e2e: alone (it measures the host's /tmp and looks in all of /dev/shm)
. "$(dirname "$0")/lib.sh"
need_root "hostile programs through the sandbox"
# A slot (uid) of our own: other runs of this suite may share the machine.
if ! "$GRADER" doctor >"$E2E_TMP/doctor"; then
	cat "$E2E_TMP/doctor"
	if [ "${REQUIRE_ROOT:-0}" = 1 ]; then
		fail "hostile programs through the sandbox" "this host cannot build the full sandbox"
	else
		skip "hostile programs through the sandbox" "this host cannot build the full sandbox"
	fi
	finish
fi
SLOT=$((1000 + $$ % 2000 * 2))
UID_BOX=$((61000 + SLOT))
H=$BUILD/tests/hostile
box=$E2E_TMP/box
mkdir "$box"
# The programs are shown read-only at their own path: nothing runs from /box (noexec).
bin=$E2E_TMP/bin
mkdir "$bin"
cp "$H"/* "$bin/"
meta=$E2E_TMP/meta.json

# run NAME [grader options] -- CMD...: run in the box, then check nothing survived
run() {
	n=$1; shift
	"$GRADER" run --slot $SLOT --dir "$box" --ro "$bin" --meta "$meta" "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
	check "$n: no process left" test -z "$(pgrep -u $UID_BOX)" || ps -o pid,ppid,stat,etime,cmd -u $UID_BOX
}
status() { json_get "$meta" '["status"]'; }
field() { json_get "$meta" "[\"$1\"]"; }
is() { test "$(status)" = "$1" || { echo "  status $(status): $(field message)"; cat "$E2E_TMP/out"; false; }; }

# a wall far past the CPU limit: on a loaded machine the CPU second comes late
run loop --time 1 --wall 60 -- $bin/loop
check "infinite loop -> TO" is TO
# The kernel's RLIMIT_CPU tick sampling and rusage disagree under load (0.8-0.9 s
# is reported for a kill at 1 s on a busy machine): the bound that matters is the
# upper one, and the message says the CPU limit, not the wall, stopped it.
check "infinite loop stopped near 1 s CPU" /usr/bin/python3 -c "import sys; sys.exit(not 0.5 <= $(field time) < 3)"
check "... by the CPU time limit" sh -c "grep -q 'time limit exceeded' '$meta' && ! grep -q 'wall time limit' '$meta'"

run spinners --time 1 --wall 20 -- $bin/spinners
check "CPU spread over processes, each under the limit -> TO" is TO
check "... stopped for the whole run's CPU time" grep -q "all processes together" "$meta"
check "... not by the wall limit" sh -c "! grep -q 'wall time limit' '$meta'"

run sleeper --wall 0.5 -- $bin/sleeper
check "sleep past the wall -> TO" is TO
check "sleep past the wall -> killed" test "$(field killed)" = True

run forkbomb --wall 1 --procs 32 -- $bin/forkbomb
check "fork bomb -> TO" is TO
check "this script can still fork" /bin/true

run threadbomb --wall 1 --procs 32 -- $bin/threadbomb
check "thread bomb -> TO" is TO
check "thread bomb hit the process limit" grep -q "thread limit reached after" "$E2E_TMP/err"

run bigalloc --mem 64 -- $bin/bigalloc
check "10 GB allocation -> ML" is ML

run filldisk-box --fsize 8 -- $bin/filldisk /box/big
check "writing past the file size limit -> OL" is OL
check "the file in DIR stays under the limit" test "$(stat -c %s "$box/big")" -le $((8 << 20))
rm -f "$box/big"
before=$(df -k --output=avail /tmp | tail -n 1)
run filldisk-tmp --fsize 1024 --tmp 16 -- $bin/filldisk /tmp/big ignore
check "filling /tmp stops at the tmpfs size" grep -q "stopped after 1[56] MB: No space left" "$E2E_TMP/out"
after=$(df -k --output=avail /tmp | tail -n 1)
check "the host's /tmp is untouched" test $((before - after)) -lt 8192

run manyfiles --tmp 8 -- $bin/manyfiles /tmp 100000
check "100000 files in /tmp hit the inode cap" grep -q "^created [0-9]*: No space left" "$E2E_TMP/out"

run flood --output 64 -- $bin/flood 50
check "stdout flood -> OL" is OL
check "passed output capped at 64 KiB" test "$(stat -c %s "$E2E_TMP/out")" -eq 65536
check "dropped bytes counted" test "$(field out_dropped)" -eq $(((50 << 20) - 65536))

mark="4242.$$"
run escape --wall 5 -- $bin/escape "$mark"
check "double fork + setsid: run ends OK" is OK
check "double fork + setsid: the sleeper is gone" test -z "$(pgrep -f "sleep $mark")"

run killer -- $bin/killer
check "kill(-1), kill(ppid), kill(1) -> runner unharmed" is OK
check "kill(-1) found nobody to kill" grep -q "kill(-1)=-1" "$E2E_TMP/out"

name="grader-e2e-$$"
/usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind('\0' + sys.argv[1]); s.listen(); time.sleep(20)" "$name" &
py=$!
sleep 0.3
check "host abstract socket reachable from the host" /usr/bin/python3 -c "
import socket, sys; socket.socket(socket.AF_UNIX).connect('\0' + sys.argv[1])" "$name"
run sockets -- $bin/sockets "$name"
check "inet/inet6/vsock/netlink/packet refused, host abstract socket unreachable" is OK
kill $py 2>/dev/null

other=$E2E_TMP/other-box
mkdir "$other"; echo secret >"$other/answers.txt"
run snoop -- $bin/snoop "$other" "$other/answers.txt" "$ROOT"
check "other box, /etc/shadow, grader files, writes outside: all refused" is OK
check "nothing written next to the other box" test ! -e "$other/escape"

run syscalls -- $bin/syscalls
check "ptrace, mount, unshare, clone3, io_uring, bpf, ... refused" is OK
check "clone3 answered ENOSYS" grep -q "clone3 .*refused (ENOSYS)" "$E2E_TMP/out"
check "io_uring answered ENOSYS" grep -q "io_uring_setup .*refused (ENOSYS)" "$E2E_TMP/out"

run int80 -- $bin/int80
check "i386 int 0x80 -> killed by SIGSYS" test "$(status) $(field signal)" = "SG 31"
check "i386 int 0x80 made no syscall" test ! -s "$E2E_TMP/out"
run x32 -- $bin/int80 x32
check "x32 syscall -> killed by SIGSYS" test "$(status) $(field signal)" = "SG 31"

run nativecode -- $bin/nativecode
check "no native code from /box, /tmp, /dev/shm; W^X; no memfd, inotify, fanotify" is OK
check "... the controls (system libraries, /bin/true) still work" grep -q "execve /bin/true (control) *works" "$E2E_TMP/out"
check "... a copied .so in /box does not dlopen" grep -q "dlopen /box/libm-copy.so *refused" "$E2E_TMP/out"
run nativecode-jit --allow-jit -- $bin/nativecode jit
check "--allow-jit: W^X lifted, noexec, memfd and inotify still refused" is OK
cp "$H/loop" "$box/loop"
run exec-from-box -- /box/loop
check "a program in DIR does not start (noexec)" test "$(status)" = XX
check "... and says why" grep -q "Permission denied" "$meta"
rm -f "$box/loop"
run cmdline -- /bin/sh -c 'cat /proc/1/cmdline; cat /proc/1/environ; cat /proc/2/cmdline' 
check "/proc/1/cmdline and /proc/1/environ are empty (the control: /proc/2's is the shell's)" \
	test "$(tr '\0' ' ' <"$E2E_TMP/out")" = "/bin/sh -c cat /proc/1/cmdline; cat /proc/1/environ; cat /proc/2/cmdline "

exec 7<"$ROOT/Makefile"
run fdleak -- $bin/fdleak
check "an fd the grader had open is not visible" is OK
exec 7<&-

# The grader itself killed mid-run: init dies with it, and so does the tree.
"$GRADER" run --slot $SLOT --dir "$box" --ro "$bin" --wall 30 -- sh -c "$bin/escape $mark; exec $bin/sleeper" >/dev/null 2>&1 &
gpid=$!
"$GRADER" run --slot $((SLOT + 1)) --dir "$box" --ro "$bin" --wall 30 -- $bin/sleeper >/dev/null 2>&1 &
gpid2=$!
sleep 0.5
check "grader killed: the runs were still going" kill -0 $gpid $gpid2
check "grader killed: the escaped sleeper was running" test -n "$(pgrep -f "sleep $mark")"
kill -9 $gpid $gpid2
wait $gpid $gpid2 2>/dev/null
sleep 0.3
check "grader killed: the box's processes die too" test -z "$(pgrep -u $UID_BOX)$(pgrep -u $((UID_BOX + 1)))$(pgrep -f "sleep $mark")"
# a killed grader cannot remove its (now empty) cgroups: do it for it
find /sys/fs/cgroup -maxdepth 4 -type d \( -name "grader-$gpid-*" -o -name "grader-$gpid2-*" \) \
	-exec rmdir {} + 2>/dev/null

run leftover-write -- $bin/leftover write
check "leftovers written" is OK
run leftover-check -- $bin/leftover check
check "leftovers in /tmp and /dev/shm not visible to the next run" is OK
finish
