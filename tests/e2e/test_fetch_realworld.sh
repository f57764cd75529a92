#!/bin/sh
# LMS downloads as students and instructors really make them, fetched and
# graded end to end: a macOS zip and tar (__MACOSX, AppleDouble "._" files
# beside each file and beside the student's own zip), a Windows zip
# (backslash paths, CP437 names), a Canvas course whose notebook is
# lab-1.ipynb, names with hyphens, apostrophes (typed and typographic),
# Greek, Cyrillic and decomposed accents, two students with the same name,
# and Blackboard attempt times in Europe/London across both DST changes (and
# in the hour that happens twice) against a deadline with a UTC offset.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
PY=/usr/bin/python3
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
$PY "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/demo" >/dev/null

# --- what the downloads hold: alice's answers for everybody
$PY - "$T/demo/alice/ps1/ps1.ipynb" "$T" <<'PYEOF'
import io, sys, tarfile, zipfile
nb, out = open(sys.argv[1], 'rb').read(), sys.argv[2]
AD = b'\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        '  # AppleDouble header

def zi(name, system=3, t=(2026, 10, 29, 10, 0, 0)):
    z = zipfile.ZipInfo(name, t)
    z.create_system = system
    return z

def zipped(entries, system=3):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zi(name, system), data)
    return b.getvalue()

# macOS Finder's "Compress": __MACOSX/ twins; some tools put ._ files beside
mac = zipped([('hw/ps1.ipynb', nb), ('hw/._ps1.ipynb', AD), ('__MACOSX/hw/._ps1.ipynb', AD),
              ('hw/.DS_Store', b'\x00\x00\x00\x01Bud1')])
# Windows (MS-DOS host, no UTF-8 flag): backslashes, a CP437 name (0x82 = e-acute);
# zipfile would flag a non-ASCII name as UTF-8, so the byte is put in afterwards
win = zipped([('hw1\\ps1.ipynb', nb), ('hw1\\data\\cafQ.csv', b'a,b\n')],
             system=0).replace(b'cafQ.csv', b'caf\x82.csv')
with zipfile.ZipFile(out + '/canvas.zip', 'w') as z:
    z.writestr(zi('smithalice_101_5001_hw.zip'), mac)
    z.writestr(zi('._smithalice_101_5001_hw.zip'), AD)
    z.writestr(zi('__MACOSX/._smithalice_101_5001_hw.zip'), AD)
    z.writestr(zi('doebob_102_5002_hw1.zip'), win)
    # names as Canvas writes them: letters only, family name first
    z.writestr(zi('oneilmaryjo_103_5003_ps1.ipynb'), nb)
    z.writestr(zi('darcyjeanluc_LATE_104_5004_ps1.ipynb'), nb)
    z.writestr(zi('zhangwei_105_5005_ps1.ipynb'), nb)
    z.writestr(zi('zhangwei_106_5006_ps1.ipynb'), nb)

# Blackboard at a university whose usernames are email addresses
with zipfile.ZipFile(out + '/bbmail.zip', 'w') as z:
    z.writestr(zi('PS 1_jo.lee@uni.example_attempt_2026-10-29-10-00-00.txt'), 'Name: Jo Lee\n')
    z.writestr(zi('PS 1_jo.lee@uni.example_attempt_2026-10-29-10-00-00_ps1.ipynb'), nb)

# Canvas, a course whose notebook is lab-1.ipynb: "-1" is its name, not a
# resubmission; bob uploaded twice (Canvas named the second lab-1-1.ipynb)
with zipfile.ZipFile(out + '/labs.zip', 'w') as z:
    z.writestr(zi('smithalice_101_6001_lab-1.ipynb'), nb)
    z.writestr(zi('doebob_102_6002_lab-1.ipynb'), b'{"cells": []}')
    z.writestr(zi('doebob_102_6003_lab-1-1.ipynb'), nb)

# bsdtar on macOS writes ._name (the file's extended attributes) before each file
t = tarfile.open(out + '/mac.tar.gz', 'w:gz', format=tarfile.PAX_FORMAT)
for name, data in [('./carol/ps1/._ps1.ipynb', AD), ('./carol/ps1/ps1.ipynb', nb),
                   ('./carol/ps1/._notes.txt', AD), ('./carol/ps1/notes.txt', b'notes\n')]:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime = len(data), 1793264400
    t.addfile(ti, io.BytesIO(data))
t.close()

# Moodle folder mode: the full names as people write them
moodle = [("Mary-Jo O'Neil", 12345), ('Jean-Luc D\u2019Arcy', 12346), ('Wei Zhang', 12347),
          ('Wei Zhang', 12348), ('Ελένη Παπαδοπούλου', 12349), ('Дмитрий Иванов', 12350),
          ('Jose\u0301 Nu\u0301n\u0303ez', 12351)]
with zipfile.ZipFile(out + '/moodle.zip', 'w') as z:
    for name, pid in moodle:
        z.writestr(zi('%s_%d_assignsubmission_file_/ps1.ipynb' % (name, pid)), nb)

# Blackboard, server in Europe/London: attempt times around both DST changes
with zipfile.ZipFile(out + '/bb.zip', 'w') as z:
    for user, ts in [('ann', '2026-03-29-00-30-00'), ('cat', '2026-03-29-02-30-00'),
                     ('dan', '2026-10-25-00-30-00'), ('fay', '2026-10-25-02-30-00'),
                     ('eve', '2026-10-25-01-30-00')]:  # 01:30 happens twice that night
        z.writestr(zi('ps1_%s_attempt_%s.txt' % (user, ts)), 'Name: %s\n' % user)
        z.writestr(zi('ps1_%s_attempt_%s_ps1.ipynb' % (user, ts)), nb)
    # gil's second attempt is a comment alone: no file, only its receipt
    z.writestr(zi('ps1_gil_attempt_2026-03-28-10-00-00.txt'), 'Name: gil\n')
    z.writestr(zi('ps1_gil_attempt_2026-03-28-10-00-00_ps1.ipynb'), nb)
    z.writestr(zi('ps1_gil_attempt_2026-03-29-09-00-00.txt'), 'Name: gil\nComments: forgot to say hi\n')
PYEOF
cat >"$T/roster.csv" <<'EOF'
student_id,first_name,last_name,lms_id
alice,Alice,Smith,101
bob,Bob,Doe,102
carol,Carol,Jones,
mjoneil,Mary-Jo,O'Neil,
jldarcy,Jean-Luc,D'Arcy,
wzhang1,Wei,Zhang,
wzhang2,Wei,Zhang,
epapa,Ελένη,Παπαδοπούλου,
divanov,Дмитрий,Иванов,
jnunez,José,Núñez,
EOF

# --- Canvas: macOS and Windows zips inside, names, the same name twice
"$GRADER" fetch archive "$T/canvas.zip" --assignment ps1 --dest "$T/sub" --roster "$T/roster.csv" \
	--manifest "$T/canvas.csv" >"$T/out" 2>"$T/err"
check "canvas: exit 1 (two students cannot be told apart)" test $? -eq 1
has() { test -f "$T/sub/$1/ps1/$2"; }
check "macOS zip: the notebook, out of its folder" has alice ps1.ipynb
check "macOS zip: no AppleDouble file copied" test -z "$(find "$T/sub" -name '._*')"
check "macOS zip: no .DS_Store copied" test -z "$(find "$T/sub" -name .DS_Store)"
check "macOS zip: metadata listed in provenance" \
	grep -q '"path": "canvas.zip!smithalice_101_5001_hw.zip!hw/._ps1.ipynb"' \
	"$T/sub/alice/ps1/.grader-provenance.json"
check "macOS: the ._ twin of the student's zip is not read as an archive" \
	test -z "$(grep 'not a readable archive' "$T/err")"
check "Windows zip: backslashes are folders" has bob ps1.ipynb
check "Windows zip: CP437 name in a subfolder" has bob data/café.csv
check "Windows zip: ... read as CP437" grep -q '"name_encoding": "cp437"' "$T/sub/bob/ps1/.grader-provenance.json"
check "hyphen and apostrophe: Canvas name found in the roster" has mjoneil ps1.ipynb
check "Canvas LATE flag with a hyphenated name" \
	test "$(json_get "$T/sub/jldarcy/ps1/.grader-provenance.json" '["late"]')" = True
check "same name twice: neither gets the other's work" test ! -e "$T/sub/wzhang1" -a ! -e "$T/sub/wzhang2"
check "same name twice: the line says why and what to do" \
	grep -q "^fetch: student '105': canvas id '105' ('zhangwei') is not in roster '.*roster.csv'; its name matches 2 students ('wzhang1', 'wzhang2'): give them lms_id" "$T/err"
check "same name twice: both failed in the manifest" test "$(grep -c '^10[56],ps1,failed,' "$T/canvas.csv")" = 2

"$GRADER" fetch archive "$T/mac.tar.gz" --assignment ps1 --dest "$T/sub" --roster "$T/roster.csv" \
	>"$T/out" 2>"$T/err"
check "macOS tar: exit 0" test $? -eq 0
check "macOS tar: the files" has carol ps1.ipynb
check "macOS tar: a plain file kept" has carol notes.txt
check "macOS tar: no ._ beside them" test -z "$(ls -A "$T/sub/carol/ps1" | grep '^\._')"

# --- Canvas: lab-1.ipynb keeps its name; lab-1-1.ipynb is bob's newer lab-1.ipynb
"$GRADER" fetch archive "$T/labs.zip" --assignment lab-1 --dest "$T/labs" --roster "$T/roster.csv" \
	>"$T/out" 2>"$T/err"
check "canvas lab-1: exit 0" test $? -eq 0
check "canvas lab-1: a name ending in -1 is kept" test -f "$T/labs/alice/lab-1/lab-1.ipynb"
check "canvas lab-1: the resubmission is the newer lab-1.ipynb" \
	cmp -s "$T/labs/bob/lab-1/lab-1.ipynb" "$T/demo/alice/ps1/ps1.ipynb"
check "canvas lab-1: no lab.ipynb made up" test -z "$(find "$T/labs" -name lab.ipynb)"
# graded with the course's rubric for lab-1 (the demo's source, so named)
mkdir -p "$T/lab-src"
cp "$ex/ps1/source/ps1.ipynb" "$T/lab-src/lab-1.ipynb"
"$GRADER" rubric import "$T/lab-src/lab-1.ipynb" --assignment lab-1 --preload numpy,matplotlib.pyplot \
	--data "$ex/ps1/source/data.csv" -o "$T/lab-1.json" >/dev/null 2>"$T/import.err"
check "lab-1 rubric imported" test $? -eq 0
"$GRADER" grade --rubric "$T/lab-1.json" --submissions "$T/labs" -o "$T/labs.json" -q 2>/dev/null
check "canvas lab-1: both graded with alice's answers' score" $PY -c "
import json, sys
subs = json.load(open(sys.argv[1]))['submissions']
sys.exit(sorted((s['student_id'], s['status'], s['score']) for s in subs)
         != [('alice', 'graded', 13.0), ('bob', 'graded', 13.0)])" "$T/labs.json"

# --- Moodle: the full names, an NFD name against the roster's NFC one
"$GRADER" fetch archive "$T/moodle.zip" --assignment ps1 --dest "$T/moodle" --roster "$T/roster.csv" \
	--manifest "$T/moodle.csv" >"$T/out" 2>"$T/err"
for s in mjoneil jldarcy epapa divanov jnunez; do
	check "moodle: $s by name" test -f "$T/moodle/$s/ps1/ps1.ipynb"
done
check "moodle: the same name twice is named" \
	grep -q "^fetch: student '12347': moodle id '12347' ('Wei Zhang') is not in roster .*its name matches 2 students" "$T/err"
check "moodle: display name stored NFC" \
	grep -q "\"display_name\": \"$(printf 'Jos\303\251 N\303\272\303\261ez')\"" "$T/moodle/jnunez/ps1/.grader-provenance.json"
# the same download with lms_id in the roster: everyone in
sed -e 's/^wzhang1,Wei,Zhang,$/wzhang1,Wei,Zhang,12347/' -e 's/^wzhang2,Wei,Zhang,$/wzhang2,Wei,Zhang,12348/' \
	"$T/roster.csv" >"$T/roster2.csv"
"$GRADER" fetch archive "$T/moodle.zip" --assignment ps1 --dest "$T/moodle" --roster "$T/roster2.csv" \
	>"$T/out" 2>"$T/err"
check "moodle with lms_id: exit 0" test $? -eq 0
check "moodle with lms_id: both Wei Zhangs" test -f "$T/moodle/wzhang1/ps1/ps1.ipynb" -a -f "$T/moodle/wzhang2/ps1/ps1.ipynb"

# --- Blackboard times in Europe/London; the deadline 01:45 BST on 29 March is 00:45Z
"$GRADER" fetch archive "$T/bb.zip" --assignment ps1 --dest "$T/bb" --lms-timezone Europe/London \
	--deadline 2026-03-29T01:45:00+01:00 --manifest "$T/bb.csv" >"$T/out" 2>"$T/err"
check "blackboard: exit 0" test $? -eq 0
ts() { cat "$T/bb/$1/ps1/timestamp.txt"; }
check "GMT before the March change" test "$(ts ann)" = "2026-03-29 00:30:00.000000 UTC"
check "BST after the March change" test "$(ts cat)" = "2026-03-29 01:30:00.000000 UTC"
check "BST before the October change" test "$(ts dan)" = "2026-10-24 23:30:00.000000 UTC"
check "GMT after the October change" test "$(ts fay)" = "2026-10-25 02:30:00.000000 UTC"
check "the repeated hour: the first (BST), as nbgrader reads it" \
	test "$(ts eve)" = "2026-10-25 00:30:00.000000 UTC"
check "the repeated hour: a warning naming the student and both instants" \
	grep -q "^fetch: student 'eve': warning: the LMS time is in the hour that happens twice in Europe/London (clocks go back): read as the first, 2026-10-25T00:30:00Z, not 2026-10-25T01:30:00Z" "$T/err"
check "the repeated hour: no warning for the others" test "$(grep -c 'happens twice' "$T/err")" = 1
check "an attempt with only a receipt keeps the files of the one before" \
	cmp -s "$T/bb/gil/ps1/ps1.ipynb" "$T/demo/alice/ps1/ps1.ipynb"
check "... at that attempt's time" test "$(ts gil)" = "2026-03-28 10:00:00.000000 UTC"
check "... and a line says so" \
	grep -q "^fetch: student 'gil': warning: the newest Blackboard attempt (2026-03-29T08:00:00Z) holds no file, only its receipt; the files of the attempt of 2026-03-28T10:00:00Z are taken" "$T/err"
check "00:30 GMT is before 01:45 BST: on time" grep -q '^ann,ps1,ok,no,' "$T/bb.csv"
check "02:30 BST is after it: late" grep -q '^cat,ps1,ok,yes,' "$T/bb.csv"

# --- Blackboard usernames that are emails: the roster's email column finds them
printf 'student_id,first_name,last_name,email\njlee,Jo,Lee,Jo.Lee@uni.example\n' >"$T/mailroster.csv"
"$GRADER" fetch archive "$T/bbmail.zip" --assignment ps1 --dest "$T/bbmail" --roster "$T/mailroster.csv" \
	>"$T/out" 2>"$T/err"
check "blackboard email username: exit 0" test $? -eq 0
check "blackboard email username: found by the roster's email" test -f "$T/bbmail/jlee/ps1/ps1.ipynb"

# --- and graded: every fetched notebook scores what the same answers score
cp -r "$T/moodle/"* "$T/bb/"* "$T/sub/"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -q 2>"$T/grade.err"
check "grade exits 0" test $? -eq 0
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/demo" -o "$T/demo.json" -q 2>/dev/null
check "graded: each student scores alice's score, no error" $PY -c "
import json, sys
want = [s for s in json.load(open(sys.argv[2]))['submissions'] if s['student_id'] == 'alice'][0]
subs = json.load(open(sys.argv[1]))['submissions']
bad = [(s['student_id'], s['status'], s['score']) for s in subs
       if s['status'] != 'graded' or s['score'] != want['score']]
ids = sorted(s['student_id'] for s in subs)
sys.exit(bad or (len(ids) != 16 and ids))" "$T/gb.json" "$T/demo.json"

# --- submissions copied from a Mac: the folder's name is NFD, the roster's NFC
nfd=$(printf 'zoe\314\210')
mkdir -p "$T/macsub/$nfd/ps1"
cp "$T/demo/alice/ps1/ps1.ipynb" "$T/macsub/$nfd/ps1/"
printf 'student_id,first_name,last_name\nzo\303\253,Zo\303\253,Bront\303\253\n' >"$T/macroster.csv"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/macsub" --roster "$T/macroster.csv" \
	-o "$T/mac.json" -q 2>/dev/null
check "NFD folder, NFC roster: one student, graded, with the roster's names" $PY -c "
import json, sys
g = json.load(open(sys.argv[1]))
subs = [(s['student_id'], s['status']) for s in g['submissions']]
names = [(s['id'], s['first_name']) for s in g['students']]
sys.exit(subs != [('zo\u00eb', 'graded')] or names != [('zo\u00eb', 'Zo\u00eb')])" "$T/mac.json"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/macsub" --student "$(printf 'zo\303\253')" \
	-o "$T/mac1.json" -q 2>/dev/null
check "NFD folder: --student with the NFC name finds it" gb_sub "$T/mac1.json" "$(printf 'zo\303\253')" \
	"s['status'] == 'graded'"
finish
