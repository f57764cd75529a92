#!/bin/sh
# docs/deploy/slurm/grade.sbatch on a real Slurm: a single-node cluster of
# Debian's slurmctld and slurmd (with its own munged) started here, every
# path under $E2E_TMP. The README's two sbatch lines (a 4-task array, then
# the merge with --dependency=afterok) grade the demo course; the merged
# gradebook equals one `grader grade`, cell by cell. Then one array task is
# cancelled mid-run, the merge is dropped with it, and the README's
# resubmission (that task alone, then the merge) gives the same gradebook.
# e2e: alone (its daemons bind two ports found free just before: a script
# beside it choosing ports the same way could take one between)
. "$(dirname "$0")/lib.sh"
need_root "a real slurm cluster"
PATH=$PATH:/usr/sbin:/sbin
missing=
for b in mungekey munged slurmctld slurmd sbatch sinfo squeue scontrol scancel; do
	command -v "$b" >/dev/null 2>&1 || missing="$missing $b"
done
if [ -n "$missing" ]; then
	if [ "${REQUIRE_ROOT:-0}" = 1 ]; then
		fail "a real slurm cluster" "missing:$missing (make deps installs slurm-wlm and munge)"
	else
		skip "a real slurm cluster" "missing:$missing (make deps installs slurm-wlm and munge)"
	fi
	finish
fi
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
C=$T/course
README="$ROOT/docs/deploy/README.md"

# ours: the PIDs of this cluster's slurmstepd (it holds slurmd's log open)
# and jobs (slurmd hands them its SLURM_CONF and a SLURM_JOB_ID), one a line
ours() { /usr/bin/python3 - "$T" $PIDS <<'PY'
import os, sys
t, daemons = sys.argv[1], sys.argv[2:]
for p in filter(str.isdigit, os.listdir("/proc")):
    if p in daemons:
        continue
    try:
        env = open(f"/proc/{p}/environ", "rb").read().decode(errors="replace").split("\0")
        fds = [os.readlink(f"/proc/{p}/fd/{f}") for f in os.listdir(f"/proc/{p}/fd")]
    except OSError:
        continue
    job = f"SLURM_CONF={t}/etc/slurm.conf" in env and any(e.startswith("SLURM_JOB_ID=") for e in env)
    if job or f"{t}/log/slurmd.log" in fds:
        print(p)
PY
}
# The daemons are ours alone: stopped by the PIDs started here, whatever
# ends the script, before lib.sh's folder goes. Jobs first, and their
# slurmstepd gone, so that none outlives its slurmd.
PIDS=
stop_all() {
	if [ -n "$PIDS" ]; then
		# a controller that never came up makes the clients wait: bounded
		timeout 15 scancel --quiet --full --user=root 2>/dev/null
		i=0
		while { [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] || [ -n "$(ours)" ]; } &&
			[ $i -lt 150 ]; do
			sleep 0.2; i=$((i + 1))
		done
	fi
	# SIGTERM, 10 s to exit (a zombie has: it is our child, reaped by wait),
	# then SIGKILL to the same PIDs, still ours until waited for
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	i=0
	STOPPED=yes
	while [ $i -lt 100 ]; do
		STOPPED=yes
		for p in $PIDS; do
			[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null || echo Z)" = Z ] ||
				STOPPED=no
		done
		[ $STOPPED = yes ] && break
		sleep 0.1; i=$((i + 1))
	done
	for p in $PIDS; do
		[ $STOPPED = yes ] || kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=
}
trap 'stop_all; rm -rf "$E2E_TMP"' EXIT
trap 'exit 1' INT TERM HUP

# daemons_log: what the daemons said, shown when the cluster misbehaves
daemons_log() {
	for f in "$T"/log/*; do echo "--- $f"; tail -n 25 "$f"; done
}

mkdir -p "$T/etc" "$T/run" "$T/log" "$T/state" "$T/spool"
chmod 700 "$T/etc"
chmod 755 "$T/run"

# munge: a key of our own, and a munged on a socket of our own
mungekey --create --keyfile="$T/etc/munge.key" 2>"$T/log/mungekey"
check "a munge key is made" test -s "$T/etc/munge.key"
munged --foreground --force --socket="$T/run/munge.sock" --key-file="$T/etc/munge.key" \
	--pid-file="$T/run/munged.pid" --log-file="$T/log/munged.log" \
	--seed-file="$T/run/munged.seed" 2>"$T/log/munged.err" &
PIDS="$!"
i=0
while [ ! -S "$T/run/munge.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -S "$T/run/munge.sock" ]; then
	fail "munged listens on its own socket"
	daemons_log
	finish
fi
pass "munged listens on its own socket"

# slurm.conf: this host as the only node, with the CPUs and memory slurmd
# finds, on two ports free now
set -- $(/usr/bin/python3 -c "
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(('127.0.0.1', 0))
print(*(x.getsockname()[1] for x in s))")
host=$(hostname -s)
node=$(slurmd -C | sed -n '1s/^NodeName=[^ ]* //p')
: >"$T/etc/plugstack.conf"
cat >"$T/etc/slurm.conf" <<EOF
ClusterName=gradertest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/run/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
PlugStackConfig=$T/etc/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MpiDefault=none
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=grade Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
SLURM_CONF=$T/etc/slurm.conf
export SLURM_CONF
slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
CTLD=$!
PIDS="$PIDS $CTLD"
slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
PIDS="$PIDS $!"
# 60 s at most, and no longer once the controller has died (a port taken)
end=$(($(date +%s) + 60))
while [ "$(timeout 10 sinfo -h -n "$host" -o %t 2>/dev/null)" != idle ] &&
	[ "$(date +%s)" -lt $end ] && kill -0 "$CTLD" 2>/dev/null; do
	sleep 0.2
done
if [ "$(timeout 10 sinfo -h -n "$host" -o %t 2>/dev/null)" != idle ]; then
	fail "the node is idle within 60 s" "sinfo: $(timeout 10 sinfo -h -o '%P %t' 2>&1)"
	daemons_log
	finish
fi
pass "slurmctld and slurmd up, the node idle"

# the course: the demo's submissions, graded once without Slurm
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
mkdir -p "$C"
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$C/submitted"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$C/submitted" -o "$T/full.json" -j 2 -q
check "one grader grade of the course" test -s "$T/full.json"
cp "$ROOT/docs/deploy/slurm/grade.sbatch" "$C/grade.sbatch"
RUBRIC="$ex/ps1.json" SUBMISSIONS="$C/submitted"
export RUBRIC SUBMISSIONS GRADER

# block N: the README's Slurm section's Nth code block, the lines run here
block() {
	awk -v want="$1" '/^## /{ s = ($0 == "## Slurm") } s && /^```/{ n += inside ? 0 : 1;
		inside = !inside; next } s && inside && n == want' "$README"
}
block 1 >"$T/block1"
block 2 >"$T/block2"
check "the README shows the array and its dependent merge" \
	grep -q '^jid=$(sbatch --parsable --array=1-4 .*grade.sbatch)$' "$T/block1"
check "the README's merge depends on the array" \
	grep -q '^sbatch --dependency=afterok:$jid .*MERGE=1.*grade.sbatch$' "$T/block1"
K=$(sed -n 's/^jid=$(sbatch --parsable --array=\([0-9]*\) .*/\1/p' "$T/block2")
check "the README resubmits one task, then the merge (task '$K')" \
	test -n "$K" -a "$(sed -n 2p "$T/block1")" = "$(sed -n 2p "$T/block2")"

# final_state JOB [SECONDS]: wait until every task of JOB has ended (bounded)
# and print its states, one a line
final_state() {
	i=0
	while [ $i -lt $((${2:-300} * 5)) ]; do
		st=$(scontrol -o show job "$1" 2>/dev/null | sed 's/.*JobState=\([A-Z_]*\).*/\1/')
		echo "$st" | grep -qE '^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED)' ||
			break
		sleep 0.2; i=$((i + 1))
	done
	echo "$st"
}
# run_block N: run the README's block N in the course folder; sets ARRAY, MERGEJOB
run_block() {
	(cd "$C" && sh -e -c "$(cat "$T/block$1")"'
echo "array $jid"') >"$T/submit$1" 2>&1
	ARRAY=$(sed -n 's/^array \([0-9]*\)$/\1/p' "$T/submit$1")
	MERGEJOB=$(sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p' "$T/submit$1")
	[ -n "$ARRAY" ] && [ -n "$MERGEJOB" ] || { cat "$T/submit$1"; return 1; }
}
# show_outs: the jobs' own output, when something went wrong
show_outs() {
	for f in "$C"/grade-*.out; do echo "--- $f"; cat "$f"; done
	daemons_log
}

# same A B: the merged gradebook equals the unsharded one: the header, the
# students, and every submission cell by cell, but for the cells' run times
same() { /usr/bin/python3 "$ROOT/tests/e2e/gb_same.py" "$1" "$2"; }

# 1. the array and the merge, as the README submits them
if ! run_block 1; then
	fail "the README's sbatch lines submit" "$(tr '\n' ' ' <"$T/submit1")"
	finish
fi
pass "the README's sbatch lines submit (array $ARRAY, merge $MERGEJOB)"
check "the merge waits for every task of the array" \
	grep -q "Dependency=afterok:${ARRAY}_\*" "$(scontrol -o show job "$MERGEJOB" >"$T/dep"; echo "$T/dep")"
mst=$(final_state "$MERGEJOB")
ast=$(final_state "$ARRAY" | sort | uniq -c | tr -s ' \n' '  ')
check "the 4 array tasks completed ($ast)" test "$ast" = " 4 COMPLETED "
check "the merge job completed ($mst)" test "$mst" = COMPLETED
[ "$mst" = COMPLETED ] || show_outs
check "each task wrote its part" test -s "$C/parts/part-1-of-4.json" -a \
	-s "$C/parts/part-2-of-4.json" -a -s "$C/parts/part-3-of-4.json" -a -s "$C/parts/part-4-of-4.json"
scontrol -o show job "${ARRAY}_1" >"$T/task1"
check "a task holds the script's 2 CPUs and 10 GiB, not the whole node" \
	grep -q 'TRES=cpu=2,mem=10G,' "$T/task1"
check "each task has its output file" test -s "$C/grade-${ARRAY}_1.out" -a -s "$C/grade-${ARRAY}_4.out"
check "the merge has its output file" grep -q '^grader merge: 4 parts -> gradebook.json' \
	"$C/grade-merge-$MERGEJOB.out"
same "$T/full.json" "$C/gradebook.json" >"$T/cmp1" 2>&1
check "the Slurm merge equals one grader grade, cell by cell ($(cat "$T/cmp1"))" \
	grep -q '^equal 9 submissions' "$T/cmp1"
cp "$C/gradebook.json" "$T/first.json"

# 2. again from nothing, task K cancelled once its journal holds a record
rm -rf "$C/parts" "$C/gradebook.json" "$C"/grade-*.out
nk=$(/usr/bin/python3 - "$K" "$T/full.json" <<'PY'
import hashlib, json, sys
k = int(sys.argv[1])
ids = [s["student_id"] for s in json.load(open(sys.argv[2]))["submissions"]]
print(sum(int.from_bytes(hashlib.sha256(i.encode()).digest()[:8], "big") % 4 + 1 == k for i in ids))
PY
)
check "task $K's shard has students to cancel it among ($nk)" test "$nk" -ge 2
if ! run_block 1; then
	fail "the array is submitted again" "$(tr '\n' ' ' <"$T/submit1")"
	finish
fi
J=$C/parts/part-$K-of-4.json
# finals JOURNAL: its final records (one the grader marks not final, as for an
# unreadable notebook, is graded again on a rerun)
finals() { /usr/bin/python3 -c "
import json, sys
n = 0
try:
    lines = open(sys.argv[1]).read().split('\n')[:-1]
except OSError:
    lines = []
for line in lines:
    try:
        n += json.loads(line).get('final', True) is not False
    except ValueError:
        pass
print(n)" "$1"; }
i=0
while [ $i -lt 750 ]; do
	st=$(squeue -h -j "${ARRAY}_$K" -o %T 2>/dev/null)
	[ "$st" = RUNNING ] && [ "$(finals "$J.journal")" -ge 1 ] && break
	sleep 0.2; i=$((i + 1))
done
# task_procs: the processes of task K of the array, each "PID WORKDIR" (its
# grader's work directory in /tmp, whose lock it holds open, or -)
task_procs() { /usr/bin/python3 - "SLURM_CONF=$T/etc/slurm.conf" "SLURM_ARRAY_JOB_ID=$ARRAY" \
	"SLURM_ARRAY_TASK_ID=$K" <<'PY'
import os, re, sys
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        env = open(f"/proc/{p}/environ", "rb").read().decode(errors="replace").split("\0")
        if not all(e in env for e in sys.argv[1:]):
            continue
        work = "-"
        for f in os.listdir(f"/proc/{p}/fd"):
            m = re.fullmatch(r"(/.*/grader-work\.[A-Za-z0-9]{6})/\.lock", os.readlink(f"/proc/{p}/fd/{f}"))
            work = m.group(1) if m else work
        print(p, work)
    except OSError:
        pass
PY
}
work=$(task_procs | awk '$2 != "-" { print $2; exit }')
scancel "${ARRAY}_$K"
kst=$(final_state "${ARRAY}_$K")
check "task $K is cancelled mid-run ($kst)" test "$kst" = CANCELLED
# Slurm marks it cancelled at once; its processes take their time to end
i=0
while [ -n "$(task_procs)" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
check "the cancelled task's processes end" test -z "$(task_procs)"
check "the cancelled task left its journal and no part" test -s "$J.journal" -a ! -e "$J"
# scancel sends SIGTERM first: the grader stops itself, student files removed
check "the cancelled grader removed its work directory ('$work') itself" \
	test -n "$work" -a ! -e "$work"
check "the cancelled grader said what it kept" \
	grep -q "^grader grade: stopped by SIGTERM: [0-9]* of [0-9]* submissions kept in" \
	"$C/grade-${ARRAY}_$K.out"
before=$(finals "$J.journal")
check "the cancelled run had finished a submission ($before)" test "$before" -ge 1
mst=$(final_state "$MERGEJOB")
check "the merge is dropped with its dependency ($mst)" test "$mst" = CANCELLED
check "no gradebook was written" test ! -e "$C/gradebook.json"
final_state "$ARRAY" >/dev/null

# 3. the README's resubmission: task K alone, then the merge
first_array=$ARRAY
if ! run_block 2; then
	fail "the README's resubmission submits" "$(tr '\n' ' ' <"$T/submit2")"
	finish
fi
kst=$(final_state "$ARRAY")
mst=$(final_state "$MERGEJOB")
check "the resubmitted task completed ($kst)" test "$kst" = COMPLETED
check "the second merge completed ($mst)" test "$mst" = COMPLETED
[ "$mst" = COMPLETED ] || show_outs
# "N submissions (G graded, U unchanged, E errors": the journal's U reused, the rest graded
set -- $(sed -n "s/.*: \([0-9]*\) submissions (\([0-9]*\) graded, \([0-9]*\) unchanged, \([0-9]*\) errors.*part-$K-of-4.json$/\1 \2 \3 \4/p" \
	"$C/grade-${ARRAY}_$K.out") x x x x
check "the resubmitted task graded shard $K of 4 ($1 submissions, $nk expected)" test "$1" = "$nk"
check "it reused the $before final journal records of the cancelled run ($3 unchanged)" test "$3" = "$before"
check "and graded the rest ($2 graded, $4 errors)" test "$(($2 + $4 + before))" = "$nk"
check "the resubmitted task made no other part" test "$(ls "$C/parts" | grep -c 'json$')" -eq 4
same "$T/full.json" "$C/gradebook.json" >"$T/cmp2" 2>&1
check "after the cancel and resubmission the merge equals one grader grade ($(cat "$T/cmp2"))" \
	grep -q '^equal 9 submissions' "$T/cmp2"
same "$T/first.json" "$C/gradebook.json" >"$T/cmp3" 2>&1
check "and equals the first Slurm merge" grep -q '^equal 9 submissions' "$T/cmp3"
check "the other tasks of the first array stayed completed" \
	test "$(final_state "$first_array" | grep -c COMPLETED)" -eq 3

# once the queue is empty no job or slurmstepd of the cluster may stay
i=0
while { [ -n "$(squeue -h -o %i)" ] || [ -n "$(ours)" ]; } && [ $i -lt 150 ]; do
	sleep 0.2; i=$((i + 1))
done
check "no job or slurmstepd is left ($(ours | tr '\n' ' '))" test -z "$(ours)"
stop_all
check "slurmctld, slurmd and munged exit on SIGTERM" test "$STOPPED" = yes
check "slurmctld, slurmd and munged are stopped" test ! -e "$T/run/slurmctld.pid" -a \
	! -e "$T/run/slurmd.pid" -a ! -e "$T/run/munged.pid"
finish
