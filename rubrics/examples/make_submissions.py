#!/usr/bin/python3
"""Generate the demo course's submissions from the released ps1 notebook.

Usage: make_submissions.py RELEASED_PS1.ipynb DEST

Writes DEST/{student}/ps1/ps1.ipynb and timestamp.txt in nbgrader's layout,
one student per scenario the grader must handle (see SCENARIOS below).
"""
import copy
import json
import os
import sys

CORRECT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "is_palindrome": "def is_palindrome(s):\n"
                     "    t = s.replace(' ', '').lower()\n"
                     "    return t == t[::-1]",
    "fizzbuzz": "def fizzbuzz(n):\n"
                "    if n % 15 == 0:\n        return 'FizzBuzz'\n"
                "    if n % 3 == 0:\n        return 'Fizz'\n"
                "    if n % 5 == 0:\n        return 'Buzz'\n"
                "    return str(n)",
    "mean_temperature": "def mean_temperature(path):\n"
                        "    with open(path, newline='') as f:\n"
                        "        temps = [float(r['temp']) for r in csv.DictReader(f)]\n"
                        "    return sum(temps) / len(temps)",
    "plot_temperatures": "def plot_temperatures(path):\n"
                         "    with open(path, newline='') as f:\n"
                         "        temps = [float(r['temp']) for r in csv.DictReader(f)]\n"
                         "    fig, ax = plt.subplots()\n"
                         "    ax.plot(temps)\n"
                         "    ax.set_title('Temperatures')\n"
                         "    return fig",
    "palindrome_spaces": "Spaces separate words; the letters alone make the palindrome.",
}

# fizzbuzz that forgets the FizzBuzz case: 3 of 4 cases right -> 3 of 4 points
FIZZ_PARTIAL = ("def fizzbuzz(n):\n"
                "    if n % 3 == 0:\n        return 'Fizz'\n"
                "    if n % 5 == 0:\n        return 'Buzz'\n"
                "    return str(n)")
# case-sensitive palindrome: passes the visible tests, fails a hidden one
PALINDROME_NAIVE = "def is_palindrome(s):\n    return s == s[::-1]"

FORGERY = r'''import os, sys
# try every way of faking a pass from student code
for fd in range(3, 256):
    try:
        os.write(fd, b'{"cell": 99, "status": "ok", "passed": true}\n')
    except OSError:
        pass
sys.excepthook = lambda *a: None
sys.displayhook = lambda v: None
class Quiet:
    def write(self, s): return len(s)
    def flush(self): pass
sys.stderr = Quiet()
def squares(n):
    return None'''


def cell_by_id(nb, grade_id):
    for c in nb["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(grade_id)


def answer(nb, answers):
    for gid, src in answers.items():
        cell_by_id(nb, gid)["source"] = src


def correct(nb):
    answer(nb, CORRECT)


def partly(nb):
    answer(nb, dict(CORRECT, fizzbuzz=FIZZ_PARTIAL, is_palindrome=PALINDROME_NAIVE))


def syntax_error(nb):
    answer(nb, dict(CORRECT, squares="def squares(n)\n    return [i * i for i in range(n)]"))


def infinite_loop(nb):
    answer(nb, dict(CORRECT, is_palindrome="def is_palindrome(s):\n    while True:\n        pass"))


def deleted_test(nb):
    correct(nb)
    nb["cells"].remove(cell_by_id(nb, "test_squares"))


def edited_test(nb):
    answer(nb, dict(CORRECT, fizzbuzz=FIZZ_PARTIAL))
    cell_by_id(nb, "test_fizzbuzz")["source"] = "4  # full marks, surely"


def forgery(nb):
    answer(nb, dict(CORRECT, squares=FORGERY))
    # a last cell that exits the interpreter before the tests could fail
    cell_by_id(nb, "test_squares")  # the test stays; it is overwritten anyway
    nb["cells"].insert(nb["cells"].index(cell_by_id(nb, "test_squares")),
                       {"cell_type": "code", "execution_count": None, "id": "forge-exit",
                        "metadata": {}, "outputs": [],
                        "source": "import os\nos._exit(0)"})


# student id -> (scenario, timestamp)
SCENARIOS = {
    "alice": (correct, "2026-10-31 09:00:00.000000 UTC"),       # late 23 h, 2-day extension
    "bob": (partly, "2026-10-29 18:30:00.000000 UTC"),
    "carol": (syntax_error, "2026-10-30 09:59:59.000000 UTC"),
    "dave": (infinite_loop, "2026-10-30 08:00:00.000000 UTC"),
    "erin": (deleted_test, "2026-10-30 07:00:00.000000 UTC"),
    "frank": (edited_test, "2026-10-30 06:00:00.000000 UTC"),
    "grace": (forgery, "2026-10-30 05:00:00.000000 UTC"),
    "heidi": (None, "2026-10-30 04:00:00.000000 UTC"),          # malformed file
    "ivan": (correct, "2026-11-01 12:00:00.000000 UTC"),        # 2 days 2 h late
}


def main():
    released, dest = sys.argv[1], sys.argv[2]
    with open(released, encoding="utf-8") as f:
        base = json.load(f)
    for student, (scenario, stamp) in SCENARIOS.items():
        folder = os.path.join(dest, student, "ps1")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "ps1.ipynb")
        if scenario is None:
            with open(path, "w", encoding="utf-8") as f:
                f.write('{"cells": [ {"cell_type": "code", "source": "x = 1"\n')
        else:
            nb = copy.deepcopy(base)
            scenario(nb)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(nb, f, indent=1, ensure_ascii=False)
                f.write("\n")
        with open(os.path.join(folder, "timestamp.txt"), "w") as f:
            f.write(stamp + "\n")


if __name__ == "__main__":
    main()
