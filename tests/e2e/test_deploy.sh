#!/bin/sh
# docs/deploy: the Slurm batch script run as Slurm would run it (array task
# variables, then the merge; tests/e2e/test_slurm.sh runs it on a real Slurm) on the demo course, equal to one unsharded run;
# the Kubernetes manifest parsed and its required fields checked, and its
# shard and merge commands run the same way.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
SB="$ROOT/docs/deploy/slurm/grade.sbatch"
K8S="$ROOT/docs/deploy/k8s/grade-job.yaml"

check "grade.sbatch is valid sh" sh -n "$SB"
check "grade.sbatch asks for an array" grep -q 'SLURM_ARRAY_TASK_ID' "$SB"
check "grade.sbatch sizes shards from SLURM_ARRAY_TASK_COUNT" grep -q 'SLURM_ARRAY_TASK_COUNT' "$SB"
check "grade.sbatch documents the dependent merge" grep -q 'sbatch --dependency=afterok:' "$SB"

"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
mkdir -p "$T/course"
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/course/submitted"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/course/submitted" \
	-o "$T/full.json" -j 2 -q

# same(A, B): the two gradebooks hold the same submissions, cell by cell
same() {
	/usr/bin/python3 "$ROOT/tests/e2e/gb_same.py" "$1" "$2" | grep -q '^equal 9 submissions ' &&
		/usr/bin/python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))
sys.exit(0 if [s["score"] for s in a["submissions"] if s["student_id"] == "alice"] == [13.0] else 1)' "$1"
}

# Slurm: a 3-task array 1-3 (its size from SLURM_ARRAY_TASK_COUNT), then the merge
(
	cd "$T/course" || exit 1
	for id in 1 2 3; do
		SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=3 \
			SLURM_CPUS_PER_TASK=2 RUBRIC="$ex/ps1.json" SUBMISSIONS="$T/course/submitted" GRADER="$GRADER" sh "$SB" 2>>"$T/slurm.log" || exit 1
	done
	MERGE=1 SHARDS=3 GRADER="$GRADER" sh "$SB" 2>>"$T/slurm.log"
)
check "the sbatch array and merge run" test $? -eq 0
check "the array wrote one part per task" test -s "$T/course/parts/part-1-of-3.json" \
	-a -s "$T/course/parts/part-2-of-3.json" -a -s "$T/course/parts/part-3-of-3.json"
check "the sbatch merge equals one grader grade" same "$T/full.json" "$T/course/gradebook.json"
(cd "$T/course" && MERGE=1 GRADER="$GRADER" sh "$SB" 2>/dev/null)
check "the merge without SHARDS is refused" test $? -ne 0

# a task resubmitted alone (sbatch --array=2: an array of one) grades shard 2 of
# SHARDS, and without SHARDS refuses rather than grade the whole course as 1 of 1
lone() { (cd "$T/course" && SLURM_ARRAY_TASK_ID=$1 SLURM_ARRAY_TASK_MIN=$1 SLURM_ARRAY_TASK_MAX=$1 \
	SLURM_ARRAY_TASK_COUNT=1 RUBRIC="$ex/ps1.json" SUBMISSIONS="$T/course/submitted" GRADER="$GRADER" \
	sh "$SB" 2>"$T/lone.log"); }
cp "$T/course/parts/part-2-of-3.json" "$T/part2.first"
rm "$T/course/parts/part-2-of-3.json"
SHARDS=3 lone 2
check "a lone task with SHARDS grades its shard" cmp -s "$T/course/parts/part-2-of-3.json" "$T/part2.first"
lone 2
check "a lone task without SHARDS is refused" test $? -eq 2
check "the refusal says to set SHARDS" grep -q 'set SHARDS' "$T/lone.log"
check "and grades nothing" test ! -e "$T/course/parts/part-1-of-1.json"
SHARDS=3 lone 0
check "task 0 is refused (the array is numbered from 1)" test $? -eq 2
check "task 0's refusal says so" grep -q 'number the array from 1' "$T/lone.log"
SHARDS=3 lone 4
check "a task past SHARDS is refused" test $? -eq 2

if ! /usr/bin/python3 -c "import yaml" 2>/dev/null; then
	skip "kubernetes manifest" "python3-yaml is missing"
	finish
fi
# the manifest's shape; then its two commands, run here with /course -> $T/k8s
rm -rf "$T/course/parts" "$T/course/gradebook.json"
/usr/bin/python3 - "$K8S" "$T" "$ex/ps1.json" <<'PY' >"$T/k8s.out"
import sys, yaml
docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(sys.argv[1]))}
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
sh, mg = docs.get("grader-shards"), docs.get("grader-merge")
need(sh and mg, "two Jobs, grader-shards and grader-merge")
for d in (sh, mg):
    need(d["apiVersion"] == "batch/v1" and d["kind"] == "Job", d["metadata"]["name"] + " is a batch/v1 Job")
    pod = d["spec"]["template"]["spec"]
    need(pod["restartPolicy"] in ("Never", "OnFailure"), "restartPolicy")
    c = pod["containers"][0]
    need(c["securityContext"]["runAsUser"] == 0, "runs as root")
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]]
    need(claims == ["grader-course"], "the shared volume")
    need(c["volumeMounts"][0]["mountPath"] == "/course", "mounted at /course")
s = sh["spec"]
need(s["completionMode"] == "Indexed", "completionMode: Indexed")
c = s["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
need(int(env["SHARDS"]) == s["completions"], "SHARDS equals completions")
need(int({e["name"]: e["value"] for e in mg["spec"]["template"]["spec"]["containers"][0]["env"]}["SHARDS"]) == s["completions"], "merge SHARDS")
need("SYS_ADMIN" in c["securityContext"]["capabilities"]["add"], "CAP_SYS_ADMIN for the sandbox")
need(c["securityContext"]["seccompProfile"]["type"] == "Unconfined", "the sandbox's own seccomp")
need("JOB_COMPLETION_INDEX" in c["args"][0] and "--shard" in c["args"][0], "shard from JOB_COMPLETION_INDEX")
need("grader merge" in mg["spec"]["template"]["spec"]["containers"][0]["args"][0], "the merge Job merges")
print("shape ok" if not bad else "missing: " + "; ".join(bad))
t = sys.argv[2]
open(t + "/shard.sh", "w").write(c["args"][0].replace("/course/ps1.json", sys.argv[3]).replace("/course", t + "/course"))
open(t + "/merge.sh", "w").write(mg["spec"]["template"]["spec"]["containers"][0]["args"][0].replace("/course", t + "/course"))
PY
check "the kubernetes manifest has its required fields ($(head -n 1 "$T/k8s.out"))" grep -q '^shape ok' "$T/k8s.out"
# stricter: every field one of the Job API's, of its type, and the API
# server's rules for an Indexed Job; each mistake below must be caught
CHK="$ROOT/tests/e2e/k8s_job_check.py"
/usr/bin/python3 "$CHK" "$K8S" >"$T/strict.out" 2>&1
check "the manifest passes the strict Job check ($(head -n 1 "$T/strict.out"))" grep -qx ok "$T/strict.out"
/usr/bin/python3 - "$K8S" "$T" <<'PY'
import copy, sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
def mutant(name, change):
    d = copy.deepcopy(docs)
    change(d[0]["spec"], d[0]["spec"]["template"]["spec"])
    yaml.safe_dump_all(d, open(f"{sys.argv[2]}/mut-{name}.yaml", "w"))
def typo(s, p):
    s["completionmode"] = s.pop("completionMode")
def int_env(s, p):
    p["containers"][0]["env"][0]["value"] = 8
def no_completions(s, p):
    del s["completions"]
def on_failure(s, p):
    p["restartPolicy"] = "OnFailure"
def cap_prefix(s, p):
    p["containers"][0]["securityContext"]["capabilities"]["add"][0] = "CAP_SYS_ADMIN"
def lost_volume(s, p):
    p["containers"][0]["volumeMounts"][0]["name"] = "coarse"
def over_limit(s, p):
    p["containers"][0]["resources"]["requests"]["cpu"] = "4"
for f in (typo, int_env, no_completions, on_failure, cap_prefix, lost_volume, over_limit):
    mutant(f.__name__, f)
PY
for m in "typo:completionmode: unknown field" "int_env:string expected, got 8" \
	"no_completions:an Indexed Job needs completions" \
	"on_failure:backoffLimitPerIndex needs restartPolicy Never" \
	"cap_prefix:no capability 'CAP_SYS_ADMIN'" "lost_volume:'coarse' names no volume" \
	"over_limit:cpu request above its limit"; do
	/usr/bin/python3 "$CHK" "$T/mut-${m%%:*}.yaml" >"$T/mut.out" 2>&1
	check "the strict check refuses ${m%%:*} (${m#*:})" sh -c 'test "$0" -eq 1 && grep -qF "$1" "$2"' \
		"$?" "${m#*:}" "$T/mut.out"
done
d=$(dirname "$GRADER")
for i in 0 1 2 3 4 5 6 7; do
	PATH="$d:$PATH" JOB_COMPLETION_INDEX=$i SHARDS=8 sh -c "$(cat "$T/shard.sh")" 2>>"$T/k8s.log" || break
done
check "the 8 indexed shard commands run" test -s "$T/course/parts/part-8-of-8.json"
PATH="$d:$PATH" SHARDS=8 sh -c "$(cat "$T/merge.sh")" 2>>"$T/k8s.log"
check "the merge Job's command runs" test $? -eq 0
check "the indexed shards merged equal one grader grade" same "$T/full.json" "$T/course/gradebook.json"
finish
