#!/bin/sh
# grader fetch archive: real LMS downloads (Canvas, Moodle, Blackboard),
# nbgrader trees in tar/7z, zips of zips, regex layouts, and every hostile
# archive we refuse or neutralise; nothing may appear outside DEST.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
mkdir -p "$T/in" && cd "$T/in" || exit 1
SENT=$T/sentinel-$$
$PY - "$SENT" <<'PYEOF'
import io, sys, tarfile, zipfile
sent = sys.argv[1]
def zbytes(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (2026, 10, 29, 9, 0, 0)), data)
    return b.getvalue()
def zfile(path, entries):
    open(path, 'wb').write(zbytes(entries))
def tfile(path, members, mode='w', fmt=tarfile.GNU_FORMAT, enc='utf-8'):
    with tarfile.open(path, mode, format=fmt, encoding=enc) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
def reg(name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1790000000; return (ti, data)
def special(name, kind, link=''):
    ti = tarfile.TarInfo(name); ti.type = kind; ti.linkname = link; return (ti, None)

# Canvas: resubmission suffix, LATE and old late_, anonymous, text entry,
# a student's own zip with a wrapping folder, a case collision
zfile('canvas.zip', [
    ('smithjohn_101_5001_ps1.ipynb', '{"v": 1}'),
    ('smithjohn_101_5009_ps1-1.ipynb', '{"v": 2}'),
    ('doejane_LATE_102_5002_ps1.ipynb', '{"jane": 1}'),
    ('roeold_late_103_5004_ps1.ipynb', '{"old": 1}'),
    ('anon_Xy12_5005_ps1.ipynb', '{"anon": 1}'),
    ('leelee_104_text.html', '<p>answer</p>'),
    ('kimkim_105_5006_project.zip', zbytes([('project/ps1.ipynb', '{"k": 1}'),
                                             ('project/data/d.csv', '1,2'),
                                             ('__MACOSX/project/._ps1.ipynb', 'junk'),
                                             ('project/.DS_Store', 'junk')])),
    ('parkpark_106_5007_Notes.txt', 'A'),
    ('parkpark_106_5008_notes.txt', 'B'),
    ('README.txt', 'not a submission'),
])
# Moodle folder mode (with online text) and flat mode, blind marking
zfile('moodle.zip', [
    ('John Smith_201_assignsubmission_file_/ps1.ipynb', '{"m": 1}'),
    ('John Smith_201_assignsubmission_file_/data/x.csv', 'x'),
    ('John Smith_201_assignsubmission_onlinetext_/onlinetext.html', '<p>t</p>'),
    ('Jane Roe_202_assignsubmission_file_ps1.ipynb', '{"m": 2}'),
    ('Participant_203_assignsubmission_file_/ps1.ipynb', '{"m": 3}'),
])
# Blackboard: two attempts and a receipt; username with an underscore
zfile('blackboard.zip', [
    ('PS1_bob_attempt_2026-10-29-10-00-00_ps1.ipynb', '{"b": 1}'),
    ('PS1_bob_attempt_2026-10-29-10-00-00_old.py', 'old'),
    ('PS1_bob_attempt_2026-10-29-10-00-00.txt', 'Name: Bob B (bob)\n'),
    ('PS1_bob_attempt_2026-10-30-11-00-00_ps1.ipynb', '{"b": 2}'),
    ('PS1_ann_lee_attempt_2026-10-29-08-00-00_ps1.ipynb', '{"a": 1}'),
])
# nbgrader trees: tar.gz with timestamp.txt, tar.bz2, tar.xz, and a 7z (below)
tfile('nb.tar.gz', [reg('submitted/alice/ps1/ps1.ipynb', b'{"nb": 1}'),
                    reg('submitted/alice/ps1/timestamp.txt', b'2026-10-30 09:00:00.000000 UTC\n'),
                    reg('submitted/alice/ps2/other.ipynb', b'{}')], 'w:gz')
tfile('nb.tar.bz2', [reg('carl/ps1/ps1.ipynb', b'{"bz": 1}')], 'w:bz2')
tfile('nb.tar.xz', [reg('./dina/ps1/ps1.ipynb', b'{"xz": 1}')], 'w:xz')
# a zip of per-student zips for a regex layout, and a regex with timestamps
zfile('perstudent.zip', [('eve.zip', zbytes([('ps1.ipynb', '{"e": 1}')])),
                         ('fay.zip', zbytes([('ps1.ipynb', '{"f": 1}')]))])
zfile('stamped.zip', [('gus_2026-10-29T09:00:00Z_ps1.ipynb', '{"g": 1}'),
                      ('gus_2026-10-30T09:00:00Z_ps1.ipynb', '{"g": 2}')])

# hostile archives
tfile('hostile.tar', [
    reg('zed/ps1/ok.txt', b'ok'),
    reg('zed/ps1/../../../../' + sent.lstrip('/').split('/')[-1], b'pwned'),
    reg(sent + '-abs', b'pwned'),
    special('zed/ps1/pw', tarfile.SYMTYPE, '/etc/passwd'),
    special('zed/ps1/up', tarfile.SYMTYPE, '../../..'),
    special('zed/ps1/hard', tarfile.LNKTYPE, 'zed/ps1/ok.txt'),
    special('zed/ps1/null', tarfile.CHRTYPE),
    special('zed/ps1/fifo', tarfile.FIFOTYPE),
    reg('zed/ps1/.git/config', b'[core]'),
    reg('zed/ps1/big.bin', b'\x01' * (2 << 20)),
])
tfile('latin1.tar', [reg('yan/ps1/caf\xe9.txt', b'x'), reg('yan/ps1/fine.txt', b'y')],
      fmt=tarfile.GNU_FORMAT, enc='latin-1')
zfile('slip.zip', [('../' * 6 + sent.lstrip('/') + '-zip', 'pwned'),
                   (sent + '-zipabs', 'pwned'), ('zoe/ps1/ok.txt', 'ok')])
b = io.BytesIO()
with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('bomb/ps1/zeros.bin', b'\0' * (60 << 20))
open('bomb.zip', 'wb').write(b.getvalue())
zfile('many.zip', [('many/ps1/f%03d.txt' % i, 'x') for i in range(50)])
good = zbytes([('trunc/ps1/a.txt', 'a' * 5000), ('trunc/ps1/b.txt', 'b' * 5000)])
open('truncated.zip', 'wb').write(good[:len(good) // 2])
raw = open('nb.tar.gz', 'rb').read()
open('truncated.tar.gz', 'wb').write(raw[:len(raw) // 2])
# a Canvas download where one student's own zip is corrupt
zfile('canvas2.zip', [('goodgood_301_1_ps1.ipynb', '{}'),
                      ('badbad_302_2_sub.zip', good[:len(good) // 2])])
PYEOF
mkdir -p 7z/hal/ps1 && echo '{"7z": 1}' >7z/hal/ps1/ps1.ipynb
(cd 7z && 7z a -bd -bso0 ../nb.7z hal >/dev/null)
mkdir -p enc/ian/ps1 && echo secret >enc/ian/ps1/s.txt && echo open >enc/ian/ps1/o.txt
(cd enc && zip -q -P pw ../enc.zip ian/ps1/s.txt && zip -q ../enc.zip ian/ps1/o.txt)

D=$T/dest

run() { "$GRADER" fetch archive "$@" --assignment ps1 --dest "$D" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }

# --- Canvas
cat >"$T/roster.csv" <<CSV
student_id,lms_id,first_name,last_name
jsmith,101,John,Smith
jdoe,102,Jane,Doe
oroe,103,Old,Roe
nobody,999,No,Body
CSV
run canvas.zip
check "canvas exit 0" test "$(cat "$T/rc")" = 0
check "canvas resubmission: newest wins" grep -q '"v": 2' "$D/101/ps1/ps1.ipynb"
check "canvas -1 suffix dropped" test ! -e "$D/101/ps1/ps1-1.ipynb"
check "canvas LATE flag" test "$(json_get "$D/102/ps1/.grader-provenance.json" '["late"]')" = True
check "canvas old late_ flag" test "$(json_get "$D/103/ps1/.grader-provenance.json" '["late"]')" = True
check "canvas on time" test "$(json_get "$D/101/ps1/.grader-provenance.json" '["late"]')" = False
check "canvas anonymous id" test -f "$D/anon_Xy12/ps1/ps1.ipynb"
check "canvas text entry" test -f "$D/104/ps1/text.html"
check "nested zip unpacked, wrapper dropped" test -f "$D/105/ps1/ps1.ipynb" -a -f "$D/105/ps1/data/d.csv"
check "macOS metadata dropped" test ! -e "$D/105/ps1/.DS_Store" -a ! -e "$D/105/ps1/__MACOSX"
check "case collision neutralised" test "$(ls "$D/106/ps1" | grep -ci notes.txt)" = 1
check "case collision listed" grep -q "same name ignoring case" "$D/106/ps1/.grader-provenance.json"
check "unmatched entry logged" grep -q "'canvas.zip': entry 'README.txt': skipped" "$T/err"
# Canvas entry times are the download's, not the submission's: no time, and why
check "canvas: timestamp.txt empty (time unknown)" test -f "$D/101/ps1/timestamp.txt" -a ! -s "$D/101/ps1/timestamp.txt"
check "canvas: provenance says why" test "$(json_get "$D/101/ps1/.grader-provenance.json" '["timestamp_source"]')" = unknown
check "canvas: provenance note" grep -q 'Canvas stamps every entry' "$D/101/ps1/.grader-provenance.json"
rm -rf "$D"
run canvas.zip --roster "$T/roster.csv" --manifest "$T/m.csv"
check "roster maps canvas ids" test -f "$D/jsmith/ps1/ps1.ipynb" -a -f "$D/jdoe/ps1/ps1.ipynb"
check "not in roster fails" grep -q "student '104': canvas id '104' ('leelee') is not in roster" "$T/err"
check "not in roster exit 1" test "$(cat "$T/rc")" = 1
check "manifest ok row" grep -q "^jsmith,ps1,ok,no,,ps1.ipynb,8,$(printf '{"v": 2}' | sha256sum | cut -c1-64)," "$T/m.csv"
check "manifest failed row" grep -q '^104,ps1,failed,' "$T/m.csv"
check "manifest late" grep -q '^jdoe,ps1,ok,yes,' "$T/m.csv"
check "manifest missing row" grep -q '^nobody,ps1,missing,' "$T/m.csv"
check "summary counts missing and skipped" grep -qx '3 fetched, 4 failed, 1 missing, 2 entries skipped' "$T/out"
cp -r "$D" "$T/first"
sleep 1
run canvas.zip --roster "$T/roster.csv" --manifest "$T/m2.csv" -j 2
check "idempotent tree" sh -c "cd '$T/first' && find . -type f ! -name .grader-provenance.json | sort | xargs sha256sum >'$T/a'; cd '$D' && find . -type f ! -name .grader-provenance.json | sort | xargs sha256sum >'$T/b'; cmp -s '$T/a' '$T/b'"
check "idempotent manifest" cmp -s "$T/m.csv" "$T/m2.csv"
rm -rf "$D"

# --- Moodle and Blackboard
printf 'student_id,lms_id,first_name,last_name\nsmithj,201,John,Smith\nroej,,Jane,Roe\np3,203,,\nbobb,bob,,\nannl,ann_lee,,\n' >"$T/r2.csv"
run moodle.zip blackboard.zip --roster "$T/r2.csv" --deadline 2026-10-30T10:00:00Z
check "moodle/bb exit 0" test "$(cat "$T/rc")" = 0
check "moodle folder mode" test -f "$D/smithj/ps1/ps1.ipynb" -a -f "$D/smithj/ps1/data/x.csv"
check "moodle online text" test -f "$D/smithj/ps1/onlinetext.html"
check "moodle flat mode, roster by name" test -f "$D/roej/ps1/ps1.ipynb"
check "moodle blind marking" test -f "$D/p3/ps1/ps1.ipynb"
check "blackboard newest attempt" grep -q '"b": 2' "$D/bobb/ps1/ps1.ipynb"
check "blackboard older attempt dropped" test ! -e "$D/bobb/ps1/old.py"
check "blackboard receipt not copied" test -z "$(ls "$D/bobb/ps1" | grep txt | grep -v timestamp)"
check "blackboard receipt recorded" grep -q 'attempt_2026-10-29-10-00-00.txt' "$D/bobb/ps1/.grader-provenance.json"
check "blackboard timestamp" test "$(cat "$D/bobb/ps1/timestamp.txt")" = "2026-10-30 11:00:00.000000 UTC"
check "blackboard late by deadline" test "$(json_get "$D/bobb/ps1/.grader-provenance.json" '["late"]')" = True
check "blackboard username with underscore" test -f "$D/annl/ps1/ps1.ipynb"
rm -rf "$D"

# --- nbgrader trees in tar.gz / tar.bz2 / tar.xz / 7z
run nb.tar.gz nb.tar.bz2 nb.tar.xz nb.7z --layout nbgrader
check "nbgrader layout exit 0" test "$(cat "$T/rc")" = 0
check "tar.gz" test -f "$D/alice/ps1/ps1.ipynb"
check "other assignment ignored" test ! -e "$D/alice/ps2" -a ! -e "$D/alice/ps1/other.ipynb"
check "nbgrader timestamp.txt kept" test "$(cat "$D/alice/ps1/timestamp.txt")" = "2026-10-30 09:00:00.000000 UTC"
check "tar.bz2" test -f "$D/carl/ps1/ps1.ipynb"
check "tar.xz" test -f "$D/dina/ps1/ps1.ipynb"
check "7z" test -f "$D/hal/ps1/ps1.ipynb"
rm -rf "$D"

# --- regex layouts
run perstudent.zip --layout 'regex:(?P<student_id>[a-z]+)\.zip/(?P<file_id>.+)'
check "zip of zips by regex" test -f "$D/eve/ps1/ps1.ipynb" -a -f "$D/fay/ps1/ps1.ipynb"
run stamped.zip --layout 'regex:(?P<student_id>\w+?)_(?P<timestamp>[^_]+)_(?P<file_id>.+)'
check "regex timestamp newest wins" grep -q '"g": 2' "$D/gus/ps1/ps1.ipynb"
check "regex timestamp.txt" test "$(cat "$D/gus/ps1/timestamp.txt")" = "2026-10-30 09:00:00.000000 UTC"
"$GRADER" fetch archive stamped.zip --assignment ps1 --dest "$D" --layout 'regex:(?P<x>a)' 2>"$T/err"
check "regex without student_id is a usage error" test $? -eq 2
rm -rf "$D"

# --- hostile archives
run hostile.tar --layout nbgrader --max-file-size 1M
check "hostile: safe file kept" test -f "$D/zed/ps1/ok.txt"
check "hostile: no symlinks anywhere" test -z "$(find "$D" -type l)"
check "hostile: only regular files" test -z "$(find "$D" ! -type f ! -type d)"
check "hostile: .git refused" test ! -e "$D/zed/ps1/.git"
check "hostile: big entry skipped" test ! -e "$D/zed/ps1/big.bin"
check "hostile: hard link not followed" test ! -e "$D/zed/ps1/hard"
for what in "'..' escapes" "absolute path" "symlink not copied (target '/etc/passwd')" "hard link to" "character device" "fifo" "'.git' path component" "over the cap"; do
	check "hostile: message '$what'" grep -qF "$what" "$T/err"
done
check "hostile: messages name archive and entry" grep -q "^fetch: 'hostile.tar': entry 'zed/ps1/pw': skipped" "$T/err"
run latin1.tar --layout nbgrader
check "non-UTF-8 name skipped" grep -q "not valid UTF-8" "$T/err"
check "UTF-8 neighbour kept" test -f "$D/yan/ps1/fine.txt"
run slip.zip --layout nbgrader
check "zip-slip entries skipped" test "$(grep -c 'skipped' "$T/err")" -ge 2
check "zip-slip: safe entry kept" test -f "$D/zoe/ps1/ok.txt"
run bomb.zip --layout nbgrader
check "bomb refused" grep -q "'bomb.zip': refused: .*compression ratio over 200:1" "$T/err"
check "bomb: nothing written" test ! -e "$D/bomb"
check "bomb: exit 1" test "$(cat "$T/rc")" = 1
run many.zip --layout nbgrader --max-entries 10
check "too many entries refused" grep -q "more than 10 entries" "$T/err"
check "too many entries: nothing written" test ! -e "$D/many"
run many.zip --layout nbgrader --max-archive-size 20
check "archive size cap refused" grep -q "unpacks to more than 20 bytes" "$T/err"
run truncated.zip --layout nbgrader
check "truncated zip refused" grep -q "'truncated.zip': refused" "$T/err"
check "truncated zip: nothing written" test ! -e "$D/trunc"
run truncated.tar.gz --layout nbgrader
check "truncated tar.gz refused" grep -q "'truncated.tar.gz': refused" "$T/err"
run enc.zip --layout nbgrader
check "encrypted entry skipped" grep -q "'enc.zip': entry 'ian/ps1/s.txt': skipped: encrypted entry" "$T/err"
check "encrypted: plain neighbour kept" test -f "$D/ian/ps1/o.txt" -a ! -e "$D/ian/ps1/s.txt"
run canvas2.zip
check "corrupt nested zip: download goes on" test -f "$D/301/ps1/ps1.ipynb"
check "corrupt nested zip: listed" grep -q "nested archive refused" "$D/302/ps1/.grader-provenance.json"
run "$T/in/nonexistent.zip"
check "missing archive refused" grep -q "nonexistent.zip': refused" "$T/err"
# an existing submission folder that is a symlink is replaced, not followed
rm -rf "$D" && mkdir -p "$D/zoe" "$T/outside" && echo keep >"$T/outside/keep.txt"
ln -s "$T/outside" "$D/zoe/ps1"
run slip.zip --layout nbgrader
check "symlinked submission replaced" test -f "$D/zoe/ps1/ok.txt" -a ! -L "$D/zoe/ps1"
check "symlink target untouched" test "$(ls "$T/outside")" = keep.txt
# nothing outside DEST
check "sentinel paths absent" test ! -e "$SENT" -a ! -e "$SENT-abs" -a ! -e "$SENT-zip" -a ! -e "$SENT-zipabs"
check "no stray file under /tmp" test -z "$(ls -d /tmp/sentinel-* "$T"/sentinel-* 2>/dev/null)"

check "no staging left" test -z "$(find "$D" -name '.grader-stage-*')"
finish
