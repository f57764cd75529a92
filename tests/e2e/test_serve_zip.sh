#!/bin/sh
# Zip uploads to grader serve: a good zip is unpacked by fetch's archive code
# and graded like the notebook itself; a zip bomb, a path-traversal entry, an
# absolute path, a symlink entry and a corrupt zip are each refused with a 4xx
# and a one-line JSON error, and nothing is queued. `grader submit` sends a
# .zip as it is and a folder as a zip of its files, less the names the
# service refuses (a collected folder's timestamp.txt), each said on stderr.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice bob carol
BOB=bob-token-0123456789abc
NB=$T/gen/bob/ps1/ps1.ipynb
up() { # up FILE: upload FILE as bob's ps1, print the status
	$CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $BOB" \
		-F assignment=ps1 -F "file=@$1" "$URL/api/v1/submissions"
}
# the notebook itself, for the score a zip of it must get
check "the notebook uploaded: 202" test "$(up "$NB")" = 202
want=$(wait_job "$(json_get "$T/resp" '["job"]')" >/dev/null; json_get "$T/resp" '["submission"]["score"]')
check "the notebook graded" test -n "$want"

# zips made the way students' tools make them, and hostile ones
/usr/bin/python3 - "$T" "$NB" <<'PY'
import io, sys, zipfile
t, nb = sys.argv[1], sys.argv[2]
data = open(nb, 'rb').read()
with zipfile.ZipFile(t + '/good.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('ps1/ps1.ipynb', data)          # a zipped folder: unwrapped
    z.writestr('ps1/notes.txt', 'mine\n')
with zipfile.ZipFile(t + '/bomb.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('ps1.ipynb', data)
    z.writestr('big.csv', b'\0' * (100 << 20))
with zipfile.ZipFile(t + '/traversal.zip', 'w') as z:
    z.writestr('ps1.ipynb', data)
    z.writestr('../../evil.py', 'print(1)\n')
with zipfile.ZipFile(t + '/absolute.zip', 'w') as z:
    z.writestr('ps1.ipynb', data)
    z.writestr('/etc/evil.py', 'print(1)\n')
with zipfile.ZipFile(t + '/symlink.zip', 'w') as z:
    z.writestr('ps1.ipynb', data)
    link = zipfile.ZipInfo('data.csv')
    link.create_system = 3
    link.external_attr = (0o120777 << 16)
    z.writestr(link, '/etc/shadow')
good = open(t + '/good.zip', 'rb').read()
open(t + '/corrupt.zip', 'wb').write(good[:len(good) // 2] + b'\xff' * 64 + good[-22:])
PY
n0=$(jobs_count "$T")
for z in bomb traversal absolute symlink corrupt; do
	code=$(up "$T/$z.zip")
	check "$z zip refused with a 4xx ($code)" sh -c "test $code -ge 400 -a $code -lt 500"
	check "$z zip: a one-line JSON error" /usr/bin/python3 -c "
import json,sys; e=json.load(open('$T/resp'))['error']; print(e); sys.exit(0 if e and '\n' not in e else 1)"
done
check "refused zips queue nothing" test "$(jobs_count "$T")" = "$n0"
check "nothing escaped the state folder" test ! -e "$T/evil.py" -a ! -e "$T/state/evil.py" -a ! -e "$T/state/submitted/evil.py"

check "good zip: 202" test "$(up "$T/good.zip")" = 202
job=$(json_get "$T/resp" '["job"]')
check "good zip: graded" test "$(wait_job "$job")" = done
check "good zip: the notebook's score ($want)" test "$(json_get "$T/resp" '["submission"]["score"]')" = "$want"
check "good zip: its folder unwrapped" test -f "$T/state/submitted/bob/ps1/ps1.ipynb" -a -f "$T/state/submitted/bob/ps1/notes.txt"
check "good zip: lateness by the time received" grep -q '"time_source": "received"' "$T/state/submitted/bob/ps1/.grader-provenance.json"

# grader submit: a .zip as it is, a folder as a zip of its files
GRADER_TOKEN=$BOB "$GRADER" submit --server "$URL" --assignment ps1 "$T/good.zip" \
	>"$T/submit.out" 2>"$T/submit.err"; rc=$?
check "grader submit a .zip: graded" test $rc -eq 0
check "grader submit a .zip: the score" grep -q "^score $want of" "$T/submit.out"
mkdir -p "$T/mywork/.ipynb_checkpoints" "$T/mywork/data"
cp "$NB" "$T/mywork/ps1.ipynb"
echo junk >"$T/mywork/.ipynb_checkpoints/ps1-checkpoint.ipynb"
echo 1,2 >"$T/mywork/data/extra.csv"
ln -s /etc/passwd "$T/mywork/link.txt"
GRADER_TOKEN=$BOB "$GRADER" submit --server "$URL" --assignment ps1 "$T/mywork/" \
	>"$T/submit.out" 2>"$T/submit.err"; rc=$?
cat "$T/submit.err"
check "grader submit a folder: graded" test $rc -eq 0
check "grader submit a folder: the score" grep -q "^score $want of" "$T/submit.out"
check "a folder: its files sent" test -f "$T/state/submitted/bob/ps1/data/extra.csv"
check "a folder: hidden files and links left out" test ! -e "$T/state/submitted/bob/ps1/.ipynb_checkpoints" -a ! -e "$T/state/submitted/bob/ps1/link.txt"
GRADER_TOKEN=$BOB "$GRADER" submit --server "$URL" --assignment ps1 "$T/bomb.zip" \
	>/dev/null 2>"$T/submit.err"; rc=$?
check "grader submit a bad zip: refusal explained" sh -c "test $rc -eq 1 && grep -q 'refused (422)' '$T/submit.err'"
# a collected folder (as grader fetch and the demo write them): its
# timestamp.txt is a name the service keeps for itself, left out by submit
check "a collected folder holds a timestamp.txt" test -f "$T/gen/bob/ps1/timestamp.txt"
GRADER_TOKEN=$BOB "$GRADER" submit --server "$URL" --assignment ps1 "$T/gen/bob/ps1" \
	>"$T/submit.out" 2>"$T/submit.err"; rc=$?
cat "$T/submit.err"
check "grader submit a collected folder: graded" test $rc -eq 0
check "a collected folder: the score" grep -q "^score $want of" "$T/submit.out"
check "a collected folder: its timestamp.txt named as left out" grep -q "^grader submit: left out 'timestamp.txt': " "$T/submit.err"
check "a collected folder: the timestamp is the service's, not the folder's" sh -c "! cmp -s '$T/gen/bob/ps1/timestamp.txt' '$T/state/submitted/bob/ps1/timestamp.txt'"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
