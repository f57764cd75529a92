#!/bin/sh
# grader fetch archive with the names of a real class: accents, CJK and
# Arabic in every LMS layout (Canvas, Moodle folder and flat mode,
# Blackboard, nbgrader trees in zip, tar and 7z), names decomposed as macOS
# writes them, a zip from Windows (CP437, no UTF-8 flag), one from a Russian
# Windows (CP866: a warning, then --zip-charset) and names no
# encoding can read, and an Info-ZIP Unicode path field. Each download is
# fetched under LC_ALL=C and C.UTF-8 and
# must come out the same: every student in the manifest, nothing dropped
# without a line, a row and a count.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
mkdir -p "$T/in" && cd "$T/in" || exit 1
$PY - <<'PYEOF'
import io, tarfile, unicodedata, zipfile
def zfile(path, entries):
    # Python's zipfile sets the UTF-8 flag on every non-ASCII name, as Moodle does
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (2026, 10, 29, 9, 0, 0)), data)
def zraw(path, entries, flag):
    # names written as raw bytes: placeholders of the same length are patched
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        for i, (raw, data) in enumerate(entries):
            z.writestr(zipfile.ZipInfo(('%%0%dd' % len(raw)) % i, (2026, 10, 29, 9, 0, 0)), data)
    out = bytearray(b.getvalue())
    for i, (raw, data) in enumerate(entries):
        ph = (('%%0%dd' % len(raw)) % i).encode()
        for sig, off in ((b'PK\x03\x04', 30), (b'PK\x01\x02', 46)):
            pos = 0
            while True:
                pos = out.find(sig, pos)
                if pos < 0:
                    break
                if out[pos + off:pos + off + len(ph)] == ph:
                    out[pos + off:pos + off + len(ph)] = raw
                    flags = 6 if sig == b'PK\x03\x04' else 8
                    out[pos + flags + 1] = (out[pos + flags + 1] & ~0x08) | (0x08 if flag else 0)
                pos += 4
    open(path, 'wb').write(bytes(out))
nfd = lambda s: unicodedata.normalize('NFD', s)
zfile('canvas.zip', [
    ('garcíaana_201_5001_résumé.pdf', 'ana'),
    ('müllerjon_202_5002_lösung.ipynb', '{"jon": 1}'),
    ('王明_203_5003_笔记.ipynb', '{"wang": 1}'),
    ('عليفاطمة_204_5004_واجب.ipynb', '{"fatima": 1}'),
])
zfile('moodle.zip', [
    ('Chloé Smith_301_assignsubmission_file_/essay.pdf', 'chloe'),
    ('Chloé Smith_301_assignsubmission_file_/notes/café.txt', 'cafe'),
    ('Ana García_302_assignsubmission_file_ensayo.docx', 'ana'),
    (nfd('Zoë Brontë') + '_303_assignsubmission_file_/' + nfd('rêve.txt'), 'zoe'),
    ('王 明_304_assignsubmission_file_/作业.ipynb', '{"m": 4}'),
    ('Mary Jo Kent_305_assignsubmission_file_/a.txt', 'mj'),
])
zfile('blackboard.zip', [
    ('PS1_jmüller_attempt_2026-10-29-10-00-00_lösung.ipynb', '{"b": 1}'),
    ('PS1_jmüller_attempt_2026-10-29-10-00-00.txt', 'Name: Jon Müller (jmüller)\n'),
    ('PS1_fatima_attempt_2026-10-29-11-00-00_واجب.ipynb', '{"b": 2}'),
])
zfile('nbtree.zip', [('submitted/王明/ps1/笔记.ipynb', '{"t": 1}'),
                     ('submitted/王明/ps1/Lösung.txt', 'first'),
                     ('submitted/王明/ps1/LÖSUNG.txt', 'same name on macOS and Windows'),
                     ('submitted/chloé/ps1/ps1.ipynb', '{"t": 2}'),
                     ('submitted/chloé/ps1/timestamp.txt', '2026-10-30 09:00:00.000000 UTC\n')])
with tarfile.open('nbtree.tar.gz', 'w:gz', format=tarfile.PAX_FORMAT) as t:
    for name, data in (('submitted/فاطمة/ps1/ps1.ipynb', b'{"t": 3}'),
                       ('submitted/zoë/ps1/' + nfd('rêve.ipynb'), b'{"t": 4}')):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1790000000
        t.addfile(ti, io.BytesIO(data))
# zip tools on Windows: CP437 names, no UTF-8 flag (0x81 = u-umlaut, 0x82 = e-acute)
zraw('windows.zip', [(b'Jon M\x81ller_401_assignsubmission_file_/L\x94sung.txt', 'jon'),
                     (b'Ren\x82e Roy_402_assignsubmission_file_/caf\x82.txt', 'renee')], False)
# an nbgrader tree zipped on a Russian Windows: CP866 names, no UTF-8 flag; the
# same student's other file in a zip with UTF-8 names
ru = 'submitted/Дмитрий Иванов/ps1/'
# (the longer name first: zraw's placeholders are zeros of the name's length)
zraw('russian.zip', [((ru + 'Задание.txt').encode('cp866'), 'task'),
                     ((ru + 'ps1.ipynb').encode('cp866'), '{"ru": 1}')], False)
zfile('russian-utf8.zip', [(ru + 'notes.txt', 'notes')])
# Info-ZIP's Unicode path extra field (0x7075): a lossy native name, the UTF-8 one beside it
import struct, zlib
native = b'Jon M?ller_701_assignsubmission_file_/L?sung.txt'
upath = 'Jon Müller_701_assignsubmission_file_/Lösung.txt'.encode()
field = struct.pack('<B', 1) + struct.pack('<I', zlib.crc32(native)) + upath
zi = zipfile.ZipInfo(native.decode('ascii'), (2026, 10, 29, 9, 0, 0))
zi.extra = struct.pack('<HH', 0x7075, len(field)) + field
with zipfile.ZipFile('infozip.zip', 'w') as z:
    z.writestr(zi, 'jon')
# names that are not the UTF-8 their flag declares: nothing can read them
zraw('broken.zip', [(b'Ana Garc\xff\xfea_501_assignsubmission_file_/a.txt', 'lost'),
                    (b'Bo Lind_502_assignsubmission_file_/ok.txt', 'bo')], True)
# a student's own zip with one unreadable name among good ones
zraw('inner.zip', [(b'ps1/good.ipynb', '{}'), (b'ps1/bad\xff.txt', 'x')], True)
zfile('nested.zip', [('nielsenåse_601_6001_sub.zip', open('inner.zip', 'rb').read())])
# a tar (no CP437 there) with a Latin-1 byte in one student's only file
with tarfile.open('latin1.tar', 'w', format=tarfile.GNU_FORMAT, encoding='latin-1') as t:
    for name, data in (('lokke/ps1/caf\xe9.txt', b'x'), ('berg/ps1/fine.txt', b'y')):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PYEOF
mkdir -p 7z/汉斯/ps1 && echo '{"7z": 1}' >"7z/汉斯/ps1/答案.ipynb"
(cd 7z && LC_ALL=C.UTF-8 7z a -bd -bso0 ../nbtree.7z 汉斯 >/dev/null)

cat >"$T/roster.csv" <<'CSV'
student_id,lms_id,first_name,last_name
chloe,,Chloé,Smith
ana,,Ana,García
zoe,,Zoë,Brontë
wang,,明,王
mjk,,Mary_Jo,Kent
CSV

D=$T/dest
# run LOCALE ARCHIVE... [OPTIONS]: fetch into a fresh $D
run() {
	loc=$1
	shift
	rm -rf "$D"
	env LC_ALL="$loc" LANG="$loc" "$GRADER" fetch archive "$@" --assignment ps1 --dest "$D" \
		--manifest "$T/m.csv" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
has() { test -f "$D/$1/ps1/$2"; }
row() { grep -q "^$1,ps1,$2," "$T/m.csv"; }

for L in C C.UTF-8; do
	run "$L" canvas.zip
	check "$L canvas: exit 0" test "$(cat "$T/rc")" = 0
	check "$L canvas: accented file" has 201 résumé.pdf
	check "$L canvas: umlaut" has 202 lösung.ipynb
	check "$L canvas: CJK" has 203 笔记.ipynb
	check "$L canvas: Arabic" has 204 واجب.ipynb
	check "$L canvas: four students in the manifest" test "$(grep -c ',ps1,ok,' "$T/m.csv")" = 4
	check "$L canvas: summary" grep -qx '4 fetched, 0 failed' "$T/out"

	run "$L" moodle.zip --roster "$T/roster.csv"
	check "$L moodle: exit 0" test "$(cat "$T/rc")" = 0
	check "$L moodle folder: roster by accented name" has chloe essay.pdf
	check "$L moodle folder: subfolder" has chloe notes/café.txt
	check "$L moodle flat" has ana ensayo.docx
	check "$L moodle: NFD names stored NFC" has zoe "$(printf 'r\303\252ve.txt')"
	check "$L moodle: no NFD name on disk" test -z "$(find "$D" -name "$(printf 're\314\202ve.txt')")"
	check "$L moodle: CJK name, family name first" has wang 作业.ipynb
	check "$L moodle: '_' shown as a space" has mjk a.txt
	check "$L moodle: provenance names the encoding" \
		test "$(json_get "$D/chloe/ps1/.grader-provenance.json" '["files"][0]["name_encoding"]')" = utf-8
	check "$L moodle: display name kept" \
		test "$(json_get "$D/chloe/ps1/.grader-provenance.json" '["source"]["display_name"]')" = "Chloé Smith"
	for s in chloe ana zoe wang mjk; do
		check "$L moodle: manifest lists $s" row "$s" ok
	done

	run "$L" blackboard.zip
	check "$L blackboard: exit 0" test "$(cat "$T/rc")" = 0
	check "$L blackboard: non-ASCII username" has jmüller lösung.ipynb
	check "$L blackboard: Arabic file" has fatima واجب.ipynb
	check "$L blackboard: receipt recorded" grep -q 'jmüller_attempt_2026-10-29-10-00-00.txt' "$D/jmüller/ps1/.grader-provenance.json"

	run "$L" nbtree.zip nbtree.tar.gz nbtree.7z --layout nbgrader
	check "$L nbgrader: exit 0" test "$(cat "$T/rc")" = 0
	check "$L nbgrader zip: CJK student" has 王明 笔记.ipynb
	check "$L nbgrader zip: Lösung/LÖSUNG collide: one kept" test "$(ls "$D/王明/ps1" | grep -ci 'sung.txt')" = 1
	check "$L nbgrader zip: ... the other listed" grep -q 'same name ignoring case' "$D/王明/ps1/.grader-provenance.json"
	check "$L nbgrader zip: accented student, timestamp" test "$(cat "$D/chloé/ps1/timestamp.txt")" = "2026-10-30 09:00:00.000000 UTC"
	check "$L nbgrader tar (pax): Arabic student" has فاطمة ps1.ipynb
	check "$L nbgrader tar: NFD file name stored NFC" has zoë "$(printf 'r\303\252ve.ipynb')"
	check "$L nbgrader 7z: CJK" has 汉斯 答案.ipynb
	check "$L nbgrader: five students" test "$(cut -d, -f1 "$T/m.csv" | sort -u | grep -vc student_id)" = 5

	run "$L" windows.zip
	check "$L cp437: exit 0" test "$(cat "$T/rc")" = 0
	check "$L cp437: names decoded" has 401 Lösung.txt
	check "$L cp437: second student" has 402 café.txt
	check "$L cp437: encoding recorded" \
		test "$(json_get "$D/401/ps1/.grader-provenance.json" '["files"][0]["name_encoding"]')" = cp437
	check "$L cp437: display name decoded" \
		test "$(json_get "$D/402/ps1/.grader-provenance.json" '["source"]["display_name"]')" = "Renée Roy"
	check "$L cp437: Western names raise no code page warning" test ! -s "$T/err"

	run "$L" russian.zip russian-utf8.zip --layout nbgrader
	check "$L cp866 read as cp437: a warning naming the entry, its CP866 reading, the option" \
		grep -q "^fetch: 'russian.zip': warning: entry 'submitted/.*/ps1/.*' (and 1 more) has no UTF-8 flag and reads as CP437 like text of another code page (as CP866: 'submitted/Дмитрий Иванов/ps1/Задание.txt'); if the zip was made on a Windows in another language, fetch again with --zip-charset (CP866 Cyrillic" "$T/err"
	run "$L" russian.zip russian-utf8.zip --layout nbgrader --zip-charset CP866
	ru="Дмитрий Иванов"
	check "$L --zip-charset CP866: exit 0" test "$(cat "$T/rc")" = 0
	check "$L --zip-charset CP866: one student from both zips" test "$(ls "$D")" = "$ru"
	check "$L --zip-charset CP866: the Cyrillic file names" has "$ru" Задание.txt
	check "$L --zip-charset CP866: ... and the notebook" has "$ru" ps1.ipynb
	check "$L --zip-charset CP866: ... and the UTF-8 zip's file" has "$ru" notes.txt
	check "$L --zip-charset CP866: encoding recorded" \
		grep -q '"name_encoding": "CP866"' "$D/$ru/ps1/.grader-provenance.json"
	check "$L --zip-charset CP866: no warning" test ! -s "$T/err"

	run "$L" infozip.zip
	check "$L Info-ZIP unicode path: exit 0" test "$(cat "$T/rc")" = 0
	check "$L Info-ZIP unicode path: the UTF-8 name wins" has 701 Lösung.txt
	check "$L Info-ZIP unicode path: display name" \
		test "$(json_get "$D/701/ps1/.grader-provenance.json" '["source"]["display_name"]')" = "Jon Müller"

	run "$L" broken.zip
	check "$L broken: exit 1" test "$(cat "$T/rc")" = 1
	check "$L broken: readable neighbour kept" has 502 ok.txt
	check "$L broken: line names archive and entry" grep -q "^fetch: 'broken.zip': entry '#1': skipped: name cannot be read" "$T/err"
	check "$L broken: manifest row" grep -q '^,ps1,failed,,,broken.zip!#1,' "$T/m.csv"
	check "$L broken: counted" grep -qx '1 fetched, 0 failed, 1 entry skipped (1 with an unreadable name)' "$T/out"
	check "$L broken: no folder from nothing" test "$(ls "$D")" = 502

	run "$L" nested.zip
	check "$L nested: exit 1" test "$(cat "$T/rc")" = 1
	check "$L nested: good file kept" has 601 good.ipynb
	check "$L nested: bad entry names its student" grep -q "nielsenåse_601_6001_sub.zip!#2': skipped: name cannot be read.*(canvas id '601')" "$T/err"
	check "$L nested: listed for the student" grep -q '^601,ps1,failed,.*#2' "$T/m.csv"

	run "$L" latin1.tar --layout nbgrader
	check "$L latin1 tar: exit 1" test "$(cat "$T/rc")" = 1
	check "$L latin1 tar: escaped bytes and student" grep -q "^fetch: 'latin1.tar': entry 'lokke/ps1/caf\\\\xe9.txt': skipped: name is not valid UTF-8 (nbgrader id 'lokke')" "$T/err"
	check "$L latin1 tar: student failed, not missing" grep -q "^lokke,ps1,failed,.*every file was refused" "$T/m.csv"
	check "$L latin1 tar: the refused entry listed" grep -q '^lokke,ps1,failed,.*caf\\xe9.txt' "$T/m.csv"
	check "$L latin1 tar: summary" grep -qx '1 fetched, 1 failed, 1 entry skipped (1 with an unreadable name)' "$T/out"
	check "$L latin1 tar: neighbour kept" has berg fine.txt
done
run C.UTF-8 russian.zip --zip-charset KOI9
check "unknown --zip-charset: usage error" test "$(cat "$T/rc")" = 2
check "unknown --zip-charset: the line says so" \
	grep -q "unknown code page 'KOI9' (iconv -l lists them)" "$T/err"
check "no staging left" test -z "$(find "$T" -name '.grader-stage-*')"
finish
