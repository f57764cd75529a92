#!/bin/sh
# grader fetch git: real repositories built here with the git CLI (dated
# commits around a deadline, a symlink to /etc/passwd, a submodule, a huge
# file, an empty repo, a missing branch, an unreachable path); checks the
# tree, timestamp.txt, provenance, error lines, exit status, idempotence.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
git config --global user.name t; git config --global user.email t@example.org
git config --global init.defaultBranch main
git config --global protocol.file.allow always
commit() { # commit DIR DATE MESSAGE
	(cd "$1" && git add -A && GIT_AUTHOR_DATE=$2 GIT_COMMITTER_DATE=$2 git commit -qm "$3")
}
mkdir -p "$T/repos" && cd "$T/repos" || exit 1

# alice: one commit before the deadline, one after; hostile entries
git init -q alice
echo '{"cells": []}' >alice/ps1.ipynb
mkdir alice/data && echo 1,2 >alice/data/x.csv
ln -s /etc/passwd alice/passwd
ln -s ../../.. alice/up
head -c 3000000 /dev/zero >alice/huge.bin
git init -q sub && echo s >sub/s.txt && commit sub 2026-10-01T00:00:00Z s
(cd alice && git -c protocol.file.allow=always submodule -q add "$T/repos/sub" vendored 2>/dev/null)
commit alice 2026-10-29T10:00:00Z before
echo '{"cells": [1]}' >alice/ps1.ipynb && commit alice 2026-10-31T10:00:00Z after
# bob: only a commit after the deadline
git init -q bob && echo b >bob/a.py && commit bob 2026-10-31T10:00:00Z late
# carol: empty repository
git init -q carol
# dave: work on branch 'dev' only
git init -q dave && echo d >dave/a.py && commit dave 2026-10-20T10:00:00Z d && (cd dave && git branch -qm dev)
# erin: timezone offset in the commit date, just before the deadline
git init -q erin && echo e >erin/e.py && commit erin 2026-10-30T11:59:00+02:00 e
cat >"$T/roster.csv" <<CSV
student_id,repo,first_name,last_name,email
alice,repos/alice,Alice,A,a@x
bob,repos/bob,Bob,B,b@x
carol,repos/carol,Carol,C,c@x
dave,repos/dave,Dave,D,d@x
erin,file://$T/repos/erin,Erin,E,e@x
frank,repos/nowhere,Frank,F,f@x
CSV
cd "$T" || exit 1
D=$T/submitted
"$GRADER" fetch git --roster roster.csv --assignment ps1 --dest "$D" \
	--deadline 2026-10-30T10:00:00Z --max-file-size 1M --branch main -j 2 >out 2>err; rc=$?
cat out err
check "exit 1 when some fail" test $rc -eq 1
check "summary line" grep -qx "2 fetched, 4 failed, 4 entries skipped" out
check "no commit before deadline" grep -q "^fetch: student 'bob': no commit on 'main' before 2026-10-30T10:00:00Z" err
check "empty repo" grep -q "^fetch: student 'carol': repository '.*carol' is empty" err
check "missing branch" grep -q "^fetch: student 'dave': no branch 'main'" err
check "unreachable path" grep -q "^fetch: student 'frank': cannot fetch '.*nowhere'" err
check "one line per failure" test "$(grep -c '^fetch: student' err)" -eq 4
A=$D/alice/ps1
check "commit before deadline chosen" grep -q '"cells": \[\]' "$A/ps1.ipynb"
check "subfolder copied" test -f "$A/data/x.csv"
check "timestamp.txt is commit time" test "$(cat "$A/timestamp.txt")" = "2026-10-29 10:00:00.000000 UTC"
check "symlink not materialized" test ! -e "$A/passwd" -a ! -L "$A/passwd"
check "dir symlink not materialized" test ! -e "$A/up" -a ! -L "$A/up"
check "submodule not fetched" test ! -e "$A/vendored"
check "huge file not copied" test ! -e "$A/huge.bin"
check "no .git in submission" test ! -e "$A/.git"
P=$A/.grader-provenance.json
check "provenance commit time" test "$(json_get "$P" '["source"]["commit_time"]')" = 2026-10-29T10:00:00Z
check "provenance tip time" test "$(json_get "$P" '["source"]["tip_time"]')" = 2026-10-31T10:00:00Z
check "provenance commit id" test "$(json_get "$P" '["source"]["commit"]')" = "$(git -C repos/alice rev-parse HEAD~1)"
check "provenance skips symlink" grep -q "symlink to '/etc/passwd' not followed" "$P"
check "provenance skips submodule" grep -q 'submodule (gitlink' "$P"
check "provenance skips huge file" grep -q 'huge.bin' "$P"
sha=$(sha256sum "$A/ps1.ipynb" | cut -d' ' -f1)
check "provenance sha256" /usr/bin/python3 -c "
import json,sys; d=json.load(open('$P'))
f=[x for x in d['files'] if x['path']=='ps1.ipynb'][0]
sys.exit(f['sha256']!='$sha' or f['size']!=$(wc -c <"$A/ps1.ipynb"))"
check "offset date honoured" test "$(cat "$D/erin/ps1/timestamp.txt")" = "2026-10-30 09:59:00.000000 UTC"
check "bare cache kept" test -f "$D/.grader-cache/alice.git/HEAD"
check "no folder for failures" test ! -e "$D/bob/ps1"

# idempotent: same tree and provenance except fetched_at
strip() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('fetched_at'); print(json.dumps(d,sort_keys=True))" "$1"; }
(cd "$D" && find alice erin -type f | sort | xargs sha256sum | grep -v provenance) >before
strip "$P" >prov1
sleep 1
"$GRADER" fetch git --roster roster.csv --assignment ps1 --dest "$D" \
	--deadline 2026-10-30T10:00:00Z --max-file-size 1M --branch main >/dev/null 2>&1
(cd "$D" && find alice erin -type f | sort | xargs sha256sum | grep -v provenance) >after
strip "$P" >prov2
check "rerun same tree" cmp -s before after
check "rerun same provenance" cmp -s prov1 prov2
check "no temp folders left" test -z "$(find "$D" -name '.ps1.tmp-*')"

# incremental fetch: a new commit before a later deadline is picked up; --branch
echo new >repos/alice/new.txt && commit repos/alice 2026-11-01T10:00:00Z third
"$GRADER" fetch git --roster roster.csv --assignment ps1 --dest "$D" >/dev/null 2>&1
check "incremental fetch sees new commit" test -f "$D/alice/ps1/new.txt"
check "no deadline takes the tip" test "$(cat "$D/alice/ps1/timestamp.txt")" = "2026-11-01 10:00:00.000000 UTC"
printf 'student_id,repo\ndave,repos/dave\n' >r2.csv
"$GRADER" fetch git --roster r2.csv --assignment ps1 --dest "$D" --branch dev >out 2>&1
check "--branch picks branch" test -f "$D/dave/ps1/a.py"
printf 'student_id,repo,branch\ndave,repos/dave,nope\n' >r3.csv
"$GRADER" fetch git --roster r3.csv --assignment ps1 --dest "$D" --branch dev >out 2>&1
check "roster branch overrides --branch" grep -q "no branch 'nope'" out

# caps on files and total size fail the student, not the batch
"$GRADER" fetch git --roster roster.csv --assignment ps2 --dest "$D" --max-files 2 >out 2>&1
check "file-count cap" grep -q "student 'alice': .*more than 2 files" out
check "capped student has no folder" test ! -e "$D/alice/ps2"
# https-style token through the credentials callback: a local smart-HTTP
# server (git http-backend behind Basic auth)
/usr/bin/python3 "$ROOT/tests/e2e/fetch_git_http_server.py" "$T/repos" tok-123 "$T/port" &
server=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
printf 'student_id,repo\nivy,http://user:tok-123@127.0.0.1:%s/alice\n' "$port" >r5.csv
printf 'student_id,repo\nivy,http://127.0.0.1:%s/alice\n' "$port" >r6.csv
GRADER_GIT_TOKEN=tok-123 "$GRADER" fetch git --roster r6.csv --assignment ps1 --dest "$T/h1" >out 2>&1
check "token from GRADER_GIT_TOKEN accepted" test -f "$T/h1/ivy/ps1/ps1.ipynb"
GRADER_GIT_TOKEN=wrong "$GRADER" fetch git --roster r6.csv --assignment ps1 --dest "$T/h2" >out 2>&1
check "wrong token: one clear line" grep -q "^fetch: student 'ivy': cannot reach 'http://127.0.0.1:$port/alice': authentication failed" out
"$GRADER" fetch git --roster r6.csv --assignment ps1 --dest "$T/h3" --branch main >out 2>&1
check "no token: says so" grep -q "authentication required (set GRADER_GIT_TOKEN)" out
GRADER_GIT_TOKEN=wrong "$GRADER" fetch git --roster r5.csv --assignment ps1 --dest "$T/h4" >out 2>&1
check "token in URL never printed" sh -c "! grep -q tok-123 out"
check "token in URL never stored" sh -c "! grep -rq tok-123 '$T/h4'"
kill "$server"

# --- one repository holding every assignment: --subdir, and a per-row subdir
cd "$T/repos" || exit 1
git init -q mono && mkdir -p mono/ps1/data mono/ps2 mono/course/ps3
echo '{"m": 1}' >mono/ps1/ps1.ipynb && echo 1 >mono/ps1/data/d.csv && echo x >mono/README.md
echo '{"m": 2}' >mono/ps2/ps2.ipynb && echo '{"m": 3}' >mono/course/ps3/ps3.ipynb
ln -s ../.. mono/ps1/up
commit mono 2026-10-29T10:00:00Z all
cd "$T" || exit 1
cat >r7.csv <<CSV
student_id,repo,subdir
mia,repos/mono,
ned,repos/mono,course/ps3/
oli,repos/mono,nothere
pam,repos/mono,../mono
CSV
"$GRADER" fetch git --roster r7.csv --assignment ps1 --dest "$T/s1" --subdir ps1 >out 2>err
check "subdir: exit 1 (a row names a missing folder)" test $? -eq 1
check "subdir: the folder's files at the top" test -f "$T/s1/mia/ps1/ps1.ipynb" -a -f "$T/s1/mia/ps1/data/d.csv"
check "subdir: nothing from outside it" test ! -e "$T/s1/mia/ps1/README.md" -a ! -e "$T/s1/mia/ps1/ps1"
check "subdir: symlink inside still refused" test ! -e "$T/s1/mia/ps1/up"
check "subdir: per-row value wins" test -f "$T/s1/ned/ps1/ps3.ipynb" -a ! -e "$T/s1/ned/ps1/ps1.ipynb"
check "subdir: recorded in provenance" test "$(json_get "$T/s1/ned/ps1/.grader-provenance.json" '["source"]["subdir"]')" = course/ps3/
check "subdir: missing folder named" grep -q "^fetch: student 'oli': no folder 'nothere' in commit [0-9a-f]\{12\}" err
check "subdir: unsafe path refused" grep -q "^fetch: student 'pam': unsafe subdir '../mono': '..' escapes the destination" err

# --- a roster naming one LMS id twice is refused, naming both rows
printf 'student_id,repo,lms_id\nqin,repos/mono,77\nray,repos/mono,77\n' >r8.csv
"$GRADER" fetch git --roster r8.csv --assignment ps1 --dest "$T/s2" >out 2>err
check "duplicate lms_id: refused" test $? -ne 0 -a ! -e "$T/s2/qin"
check "duplicate lms_id: line names it" grep -q "line 3: lms_id '77' already on line 2 (student 'qin')" err

check "usage error exit 2" sh -c "'$GRADER' fetch git --assignment x --dest y 2>/dev/null; test \$? -eq 2"
check "help exits 0" sh -c "'$GRADER' fetch --help | grep -q -- '--deadline'"
check "bad deadline exit 2" sh -c "'$GRADER' fetch git --roster roster.csv --assignment x --dest y --deadline 'tomorrow' 2>/dev/null; test \$? -eq 2"
finish
