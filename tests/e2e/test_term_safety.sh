#!/bin/sh
# What a student's code or submission prints reaches the instructor's terminal
# with its control characters escaped: `grader nb run`'s table (an exception
# message and a repr carrying ESC, CR, BEL and a C1 CSI), `grader grade`'s
# per-student lines (a student folder named with ESC and BEL).
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
"$GRADER" nb run --json "$T/nb/forge.py" >"$T/json"
check "the JSON keeps the exact text (JSON escapes it)" test "$(json_get "$T/json" \
	"['notebooks'][0]['cells'][0]['evalue'].startswith('wrong\r  [1] ok')")" = True

ex="$ROOT/rubrics/examples"
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"
evil="alice${ESC}]0;owned${BEL}${CR}graded carol: 13"
mv "$T/sub/alice" "$T/sub/$evil"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 2 2>"$T/log"
check "grade exits 0" test $? -eq 0
no_raw "grade's lines carry no raw ESC, CR or BEL" "$T/log"
check "... the student is named, escaped" grep -qF 'alice\x1b]0;owned\x07\rgraded carol: 13' "$T/log"
finish
