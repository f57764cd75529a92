#!/bin/sh
# What a student's code or submission prints reaches the instructor's terminal
# with its control characters escaped: `grader nb run`'s table (an exception
# message and a repr carrying ESC, CR, BEL and a C1 CSI), `grader grade`'s
# per-student lines (a student folder named with ESC and BEL), `grader ci`'s
# table; and the invisible characters that reorder or hide text (U+202E and
# the other bidi controls, zero-width and format characters).
. "$(dirname "$0")/lib.sh"
need_root "notebooks through the sandbox"
T=$E2E_TMP
ESC=$(printf '\033')
BEL=$(printf '\007')
CR=$(printf '\r')
# raw ESC, BEL, CR or the UTF-8 C1 CSI (c2 9b) anywhere in a file
raw_controls() { /usr/bin/python3 -c "
import sys
b = open(sys.argv[1], 'rb').read()
sys.exit(0 if any(c in b for c in (b'\x1b', b'\x07', b'\r', b'\xc2\x9b')) else 1)" "$1"; }
# no_raw NAME FILE: a check that FILE holds none (shown with cat -v when it does)
no_raw() { if raw_controls "$2"; then fail "$1"; cat -v "$2"; else pass "$1"; fi; }
# raw bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) or
# other format characters (U+200B, U+FEFF, U+2028) anywhere in a file
raw_bidi() { /usr/bin/python3 -c "
import sys
t = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
bad = [chr(c) for c in list(range(0x202a, 0x202f)) + list(range(0x2066, 0x206a)) +
       [0x200e, 0x200f, 0x061c, 0x200b, 0xfeff, 0x2028]]
sys.exit(0 if any(c in t for c in bad) else 1)" "$1"; }
no_bidi() { if raw_bidi "$2"; then fail "$1"; cat -v "$2"; else pass "$1"; fi; }

mkdir "$T/nb"
cat >"$T/nb/forge.py" <<'PY'
# %%
raise ValueError("wrong\r  [1] ok         0.1 ms  \x1b[32mall tests passed\x1b[0m\x1b]0;owned\x07")
# %%
"\x1b[2J\x07\u009b31m" + chr(13)
PY
"$GRADER" nb run "$T/nb/forge.py" >"$T/table" 2>"$T/err"
check "nb run exits 0" test $? -eq 0
no_raw "nb run's table carries no raw ESC, CR, BEL or C1" "$T/table"
check "... the exception is shown escaped, whole" \
	grep -qF 'ValueError: wrong\r  [1] ok         0.1 ms  \x1b[32mall tests passed\x1b[0m\x1b]0;owned\x07' "$T/table"
check "... and so is the repr" grep -qF "'\\x1b[2J\\x07\\x9b31m\\r'" "$T/table"
# a right-to-left override turning "FAILED" into what reads "DELIAF" reversed,
# an isolate, marks, a zero-width space and a line separator
cat >"$T/nb/bidi.py" <<'PY'
# %%
raise ValueError("x\u202e[1] ok DELIAF\u202c \u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\ufeff\u2028")
# %%
"\u202a\u202b\u202d"
PY
"$GRADER" nb run "$T/nb/bidi.py" >"$T/table" 2>"$T/err"
check "nb run exits 0 (bidi)" test $? -eq 0
no_bidi "nb run's table carries no raw bidi or format character" "$T/table"
check "... they are shown as \\u escapes" grep -qF 'ValueError: x\u202e[1] ok DELIAF\u202c \u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\ufeff\u2028' "$T/table"
check "... in the repr too" grep -qF '\u202a\u202b\u202d' "$T/table"
"$GRADER" nb run --json "$T/nb/forge.py" >"$T/json"
check "the JSON keeps the exact text (JSON escapes it)" test "$(json_get "$T/json" \
	"['notebooks'][0]['cells'][0]['evalue'].startswith('wrong\r  [1] ok')")" = True

ex="$ROOT/rubrics/examples"
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"
evil="alice${ESC}]0;owned${BEL}${CR}graded carol: 13"
mv "$T/sub/alice" "$T/sub/$evil"
rlo=$(printf 'bob\342\200\256ko')
mv "$T/sub/bob" "$T/sub/$rlo"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 2 2>"$T/log"
check "grade exits 0" test $? -eq 0
no_raw "grade's lines carry no raw ESC, CR or BEL" "$T/log"
check "... the student is named, escaped" grep -qF 'alice\x1b]0;owned\x07\rgraded carol: 13' "$T/log"
no_bidi "grade's lines carry no raw bidi control" "$T/log"
check "... the student named with U+202E is shown escaped" grep -qF 'bob\u202eko' "$T/log"

# grader ci: the last line of a failing test's traceback is the student's message
mkdir -p "$T/repo/.grader"
/usr/bin/python3 - "$T/release/ps1.ipynb" "$T/repo/ps1.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
for c in nb["cells"]:
    if c["cell_type"] == "code" and "def squares" in "".join(c["source"]):
        c["source"] = "def squares(n):\n    raise ValueError('x\\u202e[1] ok\\u2066\\u200f')\n"
json.dump(nb, open(sys.argv[2], "w"))
PY
cp "$T/release/data.csv" "$T/repo/"
"$GRADER" rubric public "$ex/ps1.json" -o "$T/repo/.grader/rubric.json"
(cd "$T/repo" && "$GRADER" ci >"$T/ci" 2>&1)
check "ci exits 1 on the failing test" test $? -eq 1
no_bidi "ci's table carries no raw bidi control" "$T/ci"
check "... the message is shown escaped" grep -qF 'x\u202e[1] ok\u2066\u200f' "$T/ci"
finish
