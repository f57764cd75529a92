#!/bin/sh
# Feedback for students on the real demo course, graded by the real grader,
# plus a hostile student whose code, outputs and name carry markup, quotes
# and control characters: every page self-contained, hidden tests never shown,
# nothing of the student's read as HTML (checked by a parser and a browser).
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
sh "$ROOT/rubrics/examples/demo.sh" "$GRADER" "$T/demo" >"$T/demo.out" 2>&1
check "demo graded" test $? -eq 0
GB=$T/demo/gradebook.json
EVIL='mallory"<img src=x onerror=alert(1)>'\''&'

# The hostile submission: the released notebook with markup everywhere.
mkdir -p "$T/demo/submitted/$EVIL/ps1"
cp "$T/demo/submitted/alice/ps1/timestamp.txt" "$T/demo/submitted/$EVIL/ps1/"
$PY - "$T/demo/release/ps1.ipynb" "$T/demo/submitted/$EVIL/ps1/ps1.ipynb" <<'PYEOF'
import json, sys
nb = json.load(open(sys.argv[1]))
for c in nb["cells"]:
    gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if gid == "squares":
        c["source"] = ("def squares(n):\n"
                       "    # </pre><script>alert('src')</script> \"dq\" 'sq' \x01\n"
                       "    print(\"</pre><script>alert('out')</script>\\x01\\x1b[31m\")\n"
                       "    return [i * i for i in range(n)]\n")
    if gid == "is_palindrome":
        c["source"] = "def is_palindrome(s):\n    raise ValueError(\"<img src=x onerror=alert('err')>\")\n"
nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "id": "evilmd",
    "source": "<script>alert('md')</script><img src=x onerror=alert(2)> \x02"})
json.dump(nb, open(sys.argv[2], "w"))
PYEOF
weaker=; "$GRADER" doctor >/dev/null 2>&1 || weaker=--allow-weaker
# The grader writes nbgrader's autograded notebooks itself where it can; else
# they are made by hand in nbgrader's format from the gradebook's outputs.
if "$GRADER" grade --help | grep -q -- '--autograded'; then
	"$GRADER" grade --rubric "$ROOT/rubrics/examples/ps1.json" --submissions "$T/demo/submitted" \
		-o "$GB" -q --force --autograded "$T/autograded" $weaker >"$T/grade.out" 2>&1
else
	"$GRADER" grade --rubric "$ROOT/rubrics/examples/ps1.json" --submissions "$T/demo/submitted" \
		-o "$GB" -q $weaker >"$T/grade.out" 2>&1
	$PY "$ROOT/tests/e2e/make_autograded.py" "$GB" "$T/demo/submitted" "$T/autograded"
fi
check "the hostile student is graded" sh -c "grep -q 'mallory' '$GB'"
check "autograded notebooks in nbgrader's layout" test -s "$T/autograded/alice/ps1/ps1.ipynb"
# Rich outputs a notebook may carry, hostile ones included, on the hostile student's cell.
$PY - "$T/autograded/$EVIL/ps1/ps1.ipynb" <<'PYEOF'
import json, sys
p = sys.argv[1]; nb = json.load(open(p))
png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
for c in nb["cells"]:
    if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "squares":
        c["outputs"] += [
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": png, "text/plain": "<Figure>"}},
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": "AAAA\"><script>alert('png')</script>", "text/plain": "bad png"}},
            {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<script>alert('html')</script>", "text/plain": "<b>plain</b>"}},
            {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'><script>alert('svg')</script></svg>"}},
            {"output_type": "execute_result", "execution_count": 9, "metadata": {}, "data": {"text/plain": "'</pre>\u0007'"}},
            {"output_type": "error", "ename": "<img src=x onerror=alert('ename')>", "evalue": "\"q\"",
             "traceback": ["\u001b[31m</pre><script>alert('tb')</script>\u001b[0m"]}]
json.dump(nb, open(p, "w"))
PYEOF

"$GRADER" feedback "$GB" --autograded "$T/autograded" -o "$T/fb" 2>"$T/fb.err"
check "feedback exits 0" test $? -eq 0
check "one page per received student" test "$(find "$T/fb" -name '*.html' | wc -l)" -eq 10
check "pages where nbgrader releases them" test -s "$T/fb/alice/ps1/ps1.html"
check "the errored submission's page says why" grep -q 'not valid JSON' "$T/fb/heidi/ps1/ps1.html"

check "pages are self-contained, scriptless and carry the student's work as text" $PY - "$T/fb" "$EVIL" <<'PYEOF'
import html.parser, os, sys
root, evil = sys.argv[1], sys.argv[2]
ALLOWED = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "table", "tr",
           "th", "td", "a", "div", "pre", "span", "img"}
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.tags = []; s.text = []
    def handle_starttag(s, tag, attrs):
        s.tags.append(tag)
        a = dict(attrs)
        assert tag in ALLOWED, (tag, attrs)
        assert not any(k.startswith("on") for k in a), (tag, attrs)
        if tag == "img":
            assert a["src"].startswith("data:image/") and '"' not in a["src"], a
        if tag == "a":
            assert a["href"].startswith("#"), a
    def handle_data(s, d):
        s.text.append(d)
for d, _, files in os.walk(root):
    for f in files:
        raw = open(os.path.join(d, f), "rb").read()
        for bad in (b"\x01", b"\x02", b"\x07", b"\x1b"):
            assert bad not in raw, (f, bad)
        p = P(); p.feed(raw.decode()); p.close()
        assert "script" not in p.tags
evil_page = open(os.path.join(root, evil, "ps1", "ps1.html")).read()
p = P(); p.feed(evil_page); text = "".join(p.text)
for shown in ("<script>alert('src')</script>", "</pre><script>alert('out')</script>", "<b>plain</b>",
              "<img src=x onerror=alert('err')>", "<script>alert('md')</script>", evil,
              "</pre><script>alert('tb')</script>", "'</pre>"):
    assert shown in text, shown
assert p.tags.count("img") == 2, p.tags  # the PNG and the SVG, both data: URIs
assert "Content-Security-Policy" in evil_page
PYEOF

check "hidden tests never shown, their result is" $PY - "$T/fb" "$ROOT/rubrics/examples/ps1.json" <<'PYEOF'
import os, sys
root = sys.argv[1]
for d, _, files in os.walk(root):
    for f in files:
        t = open(os.path.join(d, f)).read()
        assert "Never odd or even" not in t, f
        assert 'is_palindrome("")' not in t, f
bob = open(os.path.join(root, "bob", "ps1", "ps1.html")).read()
assert "test_is_palindrome</b>: 0 / 3 points, failed" in bob, "bob's hidden-test result"
assert "AssertionError" in bob
assert 'assert is_palindrome(&quot;kayak&quot;)' in bob  # the visible part stays
PYEOF
check "scores, totals and the late penalty" sh -c "
	grep -q '<b>13 / 18</b>' '$T/fb/alice/ps1/ps1.html' &&
	grep -q '2d 2h late: 3.9 points off' '$T/fb/ivan/ps1/ps1.html' &&
	grep -q '<b>9.1 / 18</b> (13 before the late penalty)' '$T/fb/ivan/ps1/ps1.html' &&
	grep -q 'test_fizzbuzz</b>: 3 / 4 points, partly passed' '$T/fb/bob/ps1/ps1.html'"
check "captured traceback of a failing visible test" grep -q "NameError: name &#39;squares&#39; is not defined" "$T/fb/carol/ps1/ps1.html"

# A broken autograded notebook costs only its own page.
echo '{"cells": [' >"$T/autograded/carol/ps1/ps1.ipynb"
"$GRADER" feedback "$GB" --autograded "$T/autograded" -o "$T/fb2" 2>"$T/fb2.err"
check "a broken notebook is not an error for the run" test $? -eq 0
check "... is named in a warning" grep -q "warning: .*carol/ps1/ps1.ipynb" "$T/fb2.err"
check "... and its page shows the scores" grep -q 'test_squares</b>: 0 / 2 points, failed' "$T/fb2/carol/ps1/ps1.html"
check "... others keep their notebook" grep -q 'Your notebook' "$T/fb2/alice/ps1/ps1.html"

# The marker's work in nbgrader's gradebook.db.
DB=$T/gradebook.db
"$GRADER" export "$GB" --to nbgrader-db -o "$DB"
sqlite3 "$DB" "update grade set manual_score = 3 where id in (select g.id from grade g
	join submitted_notebook n on g.notebook_id = n.id join submitted_assignment s on n.assignment_id = s.id
	join base_cell c on g.cell_id = c.id where s.student_id = 'alice' and c.name = 'palindrome_spaces');
	update comment set manual_comment = 'Well argued <b>&</b> \"clear\"' where id in (select m.id from comment m
	join submitted_notebook n on m.notebook_id = n.id join submitted_assignment s on n.assignment_id = s.id
	join base_cell c on m.cell_id = c.id where s.student_id = 'alice' and c.name = 'palindrome_spaces');"
"$GRADER" feedback "$GB" --autograded "$T/autograded" --db "$DB" --student alice -o "$T/fb3" 2>/dev/null
check "feedback --db: the marker's score counts" grep -q '<b>16 / 18</b>' "$T/fb3/alice/ps1/ps1.html"
check "feedback --db: the marker's comment, escaped" grep -q 'Well argued &lt;b&gt;&amp;&lt;/b&gt; &quot;clear&quot;' "$T/fb3/alice/ps1/ps1.html"
check "--student writes that student only" test "$(ls "$T/fb3")" = alice
"$GRADER" feedback "$GB" --db "$T/nope.db" -o "$T/fb4" 2>"$T/err"
check "a missing db fails naming it" sh -c "grep -q 'nope.db' '$T/err'"

# Markdown for LMS comments.
"$GRADER" feedback "$GB" --to markdown -o "$T/md" 2>/dev/null
check "markdown: a page per notebook" test -s "$T/md/bob/ps1/ps1.md"
check "markdown: table, score and the traceback fenced" sh -c "
	grep -q '^| test\\\\_fizzbuzz | partly passed | 3 / 4 |' '$T/md/bob/ps1/ps1.md' &&
	grep -q '^\\*\\*Score: 9 / 18\\*\\*' '$T/md/bob/ps1/ps1.md' &&
	grep -q '^AssertionError' '$T/md/bob/ps1/ps1.md' &&
	! grep -rq 'Never odd or even' '$T/md'"

"$GRADER" feedback "$GB" -o "$T/x" --student nobody 2>"$T/err"
check "unknown student is a usage error" test $? -eq 2
"$GRADER" feedback "$GB" >/dev/null 2>&1
check "missing -o is a usage error" test $? -eq 2

if command -v chromium >/dev/null 2>&1; then
	HOME=$T chromium --headless --no-sandbox --disable-gpu --dump-dom \
		"file://$T/fb/$EVIL/ps1/ps1.html" >"$T/dom.html" 2>/dev/null
	check "chromium: the hostile page's DOM has no script and no handler" sh -c \
		"grep -q 'Your notebook' '$T/dom.html' && ! grep -qi '<script' '$T/dom.html' && ! grep -q 'onerror=\"' '$T/dom.html'"
else
	skip "chromium: the hostile page's DOM" "Debian's chromium is not installed"
fi
finish
