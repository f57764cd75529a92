#!/usr/bin/python3
"""Make a large synthetic gradebook from a small real one, without grading.

Usage: make_gradebook.py TEMPLATE.json N OUT.json [--shards K]

The N students (s00000, s00001, ...) take the template's submissions in turn,
so every score, status and flag is one a real run produced; each graded cell
gets captured output of a few kilobytes (quotes, markup, ANSI colour codes,
non-ASCII) so that the file has the size of a real course (about 25 kB per
submission). Names are drawn so that nbgrader's order (last name, first name,
id) differs from the file's (id). With --shards K, OUT.json is not written:
OUT.1.json ... OUT.K.json hold the students whose number is K apart, as the
parts of `grade --shard` would. The layout is the one gb_writer writes.
"""
import json
import random
import sys

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", None]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
        "Ng", "Ødegaard", None]


def output(rng, i):
    lines = []
    for k in range(rng.randint(20, 140)):
        lines.append('step %d of "run" <%d> & \x1b[31mred\x1b[0m café %d' % (k, i, rng.randint(0, 10**6)))
    return "\n".join(lines) + "\n"


def dump(o):
    return json.dumps(o, ensure_ascii=False)


def write(path, gb, students, subs):
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"format": "grader-gradebook", "format_version": 1, "generator": %s,\n'
                % dump(gb["generator"]))
        f.write('"assignments": [\n' + ",\n".join(dump(a) for a in gb["assignments"]) + "\n],\n")
        f.write('"students": [\n' + ",\n".join(dump(s) for s in students) + "\n],\n")
        f.write('"submissions": [')
        for k, s in enumerate(subs):
            f.write(("\n" if k == 0 else ",\n") + dump(s))
        f.write("\n]}\n")


def main():
    args = sys.argv[1:]
    shards = 0
    if "--shards" in args:
        k = args.index("--shards")
        shards = int(args[k + 1])
        del args[k:k + 2]
    template, n, out = args[0], int(args[1]), args[2]
    gb = json.load(open(template))
    rng = random.Random(42)
    students, subs = [], []
    for i in range(n):
        sid = "s%05d" % i
        first, last = rng.choice(FIRST), rng.choice(LAST)
        students.append({"id": sid, "first_name": first, "last_name": last,
                         "email": "%s@example.edu" % sid if rng.random() < 0.9 else None,
                         "lms_user_id": None})
        sub = json.loads(json.dumps(gb["submissions"][i % len(gb["submissions"])]))
        sub["student_id"] = sid
        if sub["source"].get("location"):
            sub["source"]["location"] = "/courses/ps1/%s/ps1" % sid
        for nb in sub["notebooks"]:
            for g in nb["grades"]:
                if g["time"] is not None:
                    g["time"] = round(rng.uniform(0.0001, 0.5), 6)
                if g["status"] in ("passed", "partial", "failed"):
                    g["output"]["stdout"] = output(rng, i)
        subs.append(sub)
    if not shards:
        write(out, gb, students, subs)
        return
    stem = out[:-5] if out.endswith(".json") else out
    for k in range(shards):
        write("%s.%d.json" % (stem, k + 1), gb, students[k::shards], subs[k::shards])


main()
