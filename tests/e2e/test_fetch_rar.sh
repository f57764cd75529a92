#!/bin/sh
# grader fetch archive: RAR archives (RAR 4 and RAR 5, as WinRAR writes
# them) inside LMS downloads and on their own: unpacked like a zip, with the
# same refusals; a corrupt one costs only its own student.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
mkdir -p "$T/in" && cd "$T/in" || exit 1
SENT=$T/sentinel-rar-$$
$PY - "$ROOT/tests/fixtures" "$SENT" <<'PYEOF'
import io, sys, zipfile
sys.path.insert(0, sys.argv[1])
import make_rar
sent = sys.argv[2]
nb = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
def zfile(path, entries):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (2026, 10, 29, 9, 0, 0)), data)
r4 = make_rar.make(4, [('ps1/ps1.ipynb', nb), ('ps1/Ärger.txt', b'umlaut')])
r5 = make_rar.make(5, [('lab/ps1.ipynb', nb.replace(b'{}', b'{"r5": 1}')), ('lab/data/d.csv', b'1,2')])
# Moodle folder mode: one student's RAR 4, another's RAR 5
zfile('moodle.zip', [('Jörg Müller_301_assignsubmission_file_/ps1.rar', r4),
                     ('Ana Silva_302_assignsubmission_file_/lab.rar', r5)])
# Canvas: one student's own RAR is cut short; the other's notebook must still come
zfile('canvas.zip', [('goodgood_401_1_ps1.ipynb', nb),
                     ('badbad_402_2_sub.rar', r5[:len(r5) // 2])])
# an nbgrader tree in a RAR, with an escaping entry beside a safe one
open('tree.rar', 'wb').write(make_rar.make(4, [
    ('mal/ps1/ok.txt', b'ok'),
    ('mal/ps1/../../../../' + sent.lstrip('/').split('/')[-1], b'pwned')]))
open('trunc.rar', 'wb').write(r4[:len(r4) // 2])
# a RAR 5 cut just after its main header: libarchive reads no entry and no error
open('cut.rar', 'wb').write(r5[:20])
zfile('canvas-cut.zip', [('goodgood_401_1_ps1.ipynb', nb), ('cutcut_403_3_sub.rar', r5[:20])])
zipfile.ZipFile('empty.zip', 'w').close()
PYEOF

D=$T/dest
run() { "$GRADER" fetch archive "$@" --assignment ps1 --dest "$D" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }

run moodle.zip
check "moodle with RARs: exit 0" test "$(cat "$T/rc")" = 0
check "RAR 4 unpacked, wrapper folder dropped" test -f "$D/301/ps1/ps1.ipynb"
check "RAR 4 Unicode name kept" test "$(cat "$D/301/ps1/Ärger.txt")" = umlaut
check "RAR 5 unpacked with its subfolder" test -f "$D/302/ps1/ps1.ipynb" -a "$(cat "$D/302/ps1/data/d.csv")" = 1,2
check "RAR 5 content is the student's" grep -q '"r5": 1' "$D/302/ps1/ps1.ipynb"
check "provenance names the RAR" grep -q 'ps1.rar!ps1/ps1.ipynb' "$D/301/ps1/.grader-provenance.json"
run canvas.zip
check "corrupt RAR: the other student fetched" test -f "$D/401/ps1/ps1.ipynb"
check "corrupt RAR: listed in its student's provenance" grep -q "nested archive refused" "$D/402/ps1/.grader-provenance.json"
check "corrupt RAR: one line names the archive" grep -q "badbad_402_2_sub.rar" "$T/err"
run tree.rar --layout nbgrader
check "RAR '..' entry skipped" grep -qF "'..' escapes" "$T/err"
check "RAR safe neighbour kept" test "$(cat "$D/mal/ps1/ok.txt")" = ok
check "RAR nothing outside DEST" test ! -e "$SENT" -a -z "$(ls -d "$T"/sentinel-rar-* 2>/dev/null)"
run trunc.rar --layout nbgrader
check "truncated RAR refused, named" grep -q "'trunc.rar': refused" "$T/err"
check "truncated RAR: exit 1" test "$(cat "$T/rc")" = 1
run cut.rar --layout nbgrader
check "RAR cut at a header refused" grep -q "'cut.rar': refused: no entries: the archive is empty or cut short" "$T/err"
check "RAR cut at a header: exit 1" test "$(cat "$T/rc")" = 1
run canvas-cut.zip
check "student's RAR cut at a header: named" grep -q "student '403': every file was refused" "$T/err"
check "student's RAR cut at a header: the other fetched" test -f "$D/401/ps1/ps1.ipynb"
run empty.zip --layout nbgrader
check "empty zip refused, named" grep -q "'empty.zip': refused: no entries" "$T/err"
finish
