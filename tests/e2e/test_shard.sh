#!/bin/sh
# `grader grade --shard K/N` and `grader merge` on the demo course: three
# shards merged equal one unsharded run, overlaps refused, missing parts
# reported, each shard's journal reused on a rerun.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"

"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/full.json" -j 2 -q
check "unsharded grade exits 0" test $? -eq 0
for k in 1 2 3; do
	"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/part$k.json" \
		--shard $k/3 -j 2 2>"$T/log$k"
	check "shard $k/3 exits 0" test $? -eq 0
	check "shard $k/3 has its own journal" test -s "$T/part$k.json.journal"
done

# ids PART: the students of a gradebook's submissions, one a line, sorted
ids() { /usr/bin/python3 -c "
import json, sys
print('\n'.join(sorted(s['student_id'] for s in json.load(open(sys.argv[1]))['submissions'])))" "$1"; }
for k in 1 2 3; do ids "$T/part$k.json"; done | sort >"$T/all_ids"
ids "$T/full.json" >"$T/full_ids"
check "the shards hold every student exactly once" cmp -s "$T/all_ids" "$T/full_ids"
check "no shard is empty" test -s "$T/part1.json" -a "$(ids "$T/part1.json" | wc -l)" -gt 0 \
	-a "$(ids "$T/part2.json" | wc -l)" -gt 0 -a "$(ids "$T/part3.json" | wc -l)" -gt 0
# the shard is the documented hash: sha256(id)[:8] big-endian mod N, plus one
/usr/bin/python3 - "$T" <<'PY' >"$T/hash_ok"
import hashlib, json, sys
ok = True
for k in (1, 2, 3):
    for s in json.load(open(f"{sys.argv[1]}/part{k}.json"))["submissions"]:
        h = int.from_bytes(hashlib.sha256(s["student_id"].encode()).digest()[:8], "big")
        ok &= h % 3 + 1 == k
print(ok)
PY
check "each student is in the shard its id hashes to" test "$(cat "$T/hash_ok")" = True

"$GRADER" merge "$T/part1.json" "$T/part2.json" "$T/part3.json" -o "$T/merged.json" 2>"$T/mlog"
check "merge exits 0" test $? -eq 0
/usr/bin/python3 "$ROOT/tests/e2e/gb_same.py" "$T/full.json" "$T/merged.json" >"$T/cmp"
check "merged equals the unsharded run, cell by cell ($(cat "$T/cmp"))" grep -q '^equal 9 submissions' "$T/cmp"

"$GRADER" merge "$T/part3.json" "$T/part1.json" "$T/part2.json" -o "$T/merged.json" 2>/dev/null
"$GRADER" merge "$T/part3.json" "$T/part1.json" "$T/part2.json" -o "$T/again.json" 2>/dev/null
check "merging again writes the same file" cmp -s "$T/merged.json" "$T/again.json"
"$GRADER" merge "$T/merged.json" -o "$T/remerged.json" 2>/dev/null
check "merging the merged gradebook writes it again" cmp -s "$T/merged.json" "$T/remerged.json"
# byte for byte, once the cells' run times (which differ by nature) are blanked
sed 's/"time": [-0-9.e+]*/"time": 0/g' "$T/full.json" >"$T/full.norm"
sed 's/"time": [-0-9.e+]*/"time": 0/g' "$T/merged.json" >"$T/merged.norm"
check "the merged file is the unsharded run's, byte for byte but run times" \
	cmp -s "$T/full.norm" "$T/merged.norm"

# an overlap: one line naming the student, nothing written
one=$(ids "$T/part1.json" | head -n 1)
"$GRADER" merge "$T/part1.json" "$T/part2.json" "$T/part1.json" -o "$T/over.json" 2>"$T/olog"
check "an overlap is refused" test $? -eq 1
check "the refusal is one line" test "$(wc -l <"$T/olog")" -eq 1
check "the refusal names the student" grep -q "student '$one' is in both" "$T/olog"
check "an overlap writes nothing" test ! -e "$T/over.json"

# a missing part: the roster's students in no part are named, nothing written
{ echo student_id; cat "$T/full_ids"; } >"$T/roster.csv"
"$GRADER" merge "$T/part1.json" "$T/part3.json" -o "$T/miss.json" --roster "$T/roster.csv" 2>"$T/mslog"
check "a missing part is refused" test $? -eq 1
grep "^in no part: " "$T/mslog" | sed "s/^in no part: '\([^']*\)'.*/\1/" | sort >"$T/named"
ids "$T/part2.json" >"$T/want_named"
check "each student of the missing part is named" cmp -s "$T/named" "$T/want_named"
check "a missing part writes nothing" test ! -e "$T/miss.json"
"$GRADER" merge "$T/part1.json" "$T/part3.json" -o "$T/miss.json" --roster "$T/roster.csv" \
	--allow-missing 2>/dev/null
check "--allow-missing writes the parts there are" test "$(ids "$T/miss.json" | wc -l)" -eq \
	$(($(wc -l <"$T/full_ids") - $(wc -l <"$T/want_named")))
"$GRADER" merge "$T/part1.json" "$T/part2.json" "$T/part3.json" -o "$T/ok.json" --roster "$T/roster.csv" 2>/dev/null
check "with every part the roster is satisfied" test $? -eq 0

# parts of another grader or rubric are refused
/usr/bin/python3 - "$T/part2.json" "$T/oldver.json" "$T/otherrub.json" <<'PY'
import json, sys
gb = json.load(open(sys.argv[1]))
gb["generator"] = "grader 0.0.1"
json.dump(gb, open(sys.argv[2], "w"))
gb = json.load(open(sys.argv[1]))
gb["assignments"][0]["duedate"] = "2030-01-01T00:00:00Z"
json.dump(gb, open(sys.argv[3], "w"))
PY
"$GRADER" merge "$T/part1.json" "$T/oldver.json" -o "$T/x.json" 2>"$T/vlog"
check "a part of another grader version is refused" grep -q "oldver.json': made by 'grader 0.0.1'" "$T/vlog"
"$GRADER" merge "$T/part1.json" "$T/otherrub.json" -o "$T/x.json" 2>"$T/rlog"
check "a part of another rubric is refused" grep -q "otherrub.json': assignments differ" "$T/rlog"
check "refused merges write nothing" test ! -e "$T/x.json"

# rerunning a shard reuses its journal; a changed submission is regraded there only
n2=$(ids "$T/part2.json" | wc -l)
cp "$T/part2.json" "$T/part2.first"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/part2.json" --shard 2/3 2>"$T/rlog2"
check "a shard rerun reuses its journal" grep -q ": $n2 submissions (0 graded, $n2 unchanged" "$T/rlog2"
check "a shard rerun writes the same part" cmp -s "$T/part2.json" "$T/part2.first"

# kill -9 in the middle of the largest shard, then resume it: the merge still
# equals the unsharded run
big=1
for k in 2 3; do
	[ "$(ids "$T/part$k.json" | wc -l)" -gt "$(ids "$T/part$big.json" | wc -l)" ] && big=$k
done
nb=$(ids "$T/part$big.json" | wc -l)
rm -f "$T/part$big.json" "$T/part$big.json.journal"
setsid "$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/part$big.json" \
	--shard $big/3 -j 1 2>/dev/null &
pid=$!
wait_lines "$T/part$big.json.journal" 2
kill -9 -"$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "the killed shard left no part" test ! -e "$T/part$big.json"
before=$(wc -l <"$T/part$big.json.journal")
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/part$big.json" \
	--shard $big/3 2>"$T/klog"
check "the resumed shard regrades only the rest" grep -q ": $nb submissions ($((nb - before)) graded, $before unchanged\|: $nb submissions ($((nb - before - 1)) graded, $before unchanged, 1 errors" "$T/klog"
"$GRADER" merge "$T/part1.json" "$T/part2.json" "$T/part3.json" -o "$T/merged2.json" 2>/dev/null
mv "$T/merged.json" "$T/merged.before"
cp "$T/merged2.json" "$T/merged.json"
/usr/bin/python3 "$ROOT/tests/e2e/gb_same.py" "$T/full.json" "$T/merged.json" >"$T/cmp2"
check "after kill -9 and resume the merge equals the unsharded run" grep -q '^equal 9 submissions' "$T/cmp2"

check "--shard 4/3 is a usage error" sh -c '"$0" grade --rubric x --submissions y -o z --shard 4/3 2>/dev/null; test $? -eq 2' "$GRADER"
check "--shard 0/3 is a usage error" sh -c '"$0" grade --rubric x --submissions y -o z --shard 0/3 2>/dev/null; test $? -eq 2' "$GRADER"
finish
