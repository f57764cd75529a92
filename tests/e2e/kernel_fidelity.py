# The notebooks of tests/e2e/test_kernel_fidelity.sh: one nbgrader source
# notebook per kernel behaviour (an answer cell doing what students do, test
# cells whose score depends on the kernel behaving as IPython's), and the
# score each test cell gets from a real Jupyter kernel (nbgrader autograde).
#   python3 kernel_fidelity.py write DIR     source notebooks and data files
#   python3 kernel_fidelity.py submit DIR    answer the released notebooks in DIR
#   python3 kernel_fidelity.py crlf NB       give NB's sources CRLF line endings
#   python3 kernel_fidelity.py expected      grade_id -> expected score (JSON)
import json
import os
import sys

# name: [(kind, source, expected score of a test cell)]; kind a = answer,
# t = test (1 point), c = plain code, m = Markdown. DIFFERENT lists deliberate differences.
NOTEBOOKS = {
    'utf8': [
        ('a', "name = open('data.csv').read().split()[1]\n"
              "open('résultats.txt', 'w').write(name)\n"
              "print(name)", None),
        ('t', "assert name == 'café'\nassert open('résultats.txt').read() == 'café'", 1),
    ],
    'figures': [
        ('a', "import matplotlib.pyplot as plt\n"
              "for i in range(20):\n    plt.figure()\n    plt.plot([0, i])", None),
        ('t', "fig = plt.figure()\nplt.plot([1, 2])\nassert fig is not None", 1),
    ],
    'indent': [
        ('a', "    x = 1\n    y = 2", None),
        ('t', "assert x + y == 3", 1),
    ],
    'prompts': [
        ('a', ">>> a = 2\n>>> b = a * 2\n... ", None),
        ('t', "assert b == 4", 1),
    ],
    'cellmagic': [
        ('a', "%%time\n%matplotlib inline\nc = 3", None),
        ('t', "assert c == 3", 1),
    ],
    'automagic': [
        ('a', "import os", None),
        ('c', "pwd", None),
        ('t', "assert _ == os.getcwd()", 1),
    ],
    'get_ipython': [
        ('a', "ip = get_ipython()\n"
              "ip.run_line_magic('matplotlib', 'inline')\n"
              "in_ns = ip.user_ns['ip'] is ip\n"
              "calls = []\n"
              "ip.events.register('post_run_cell', lambda *a: calls.append(1))\n"
              "out = ip.getoutput('echo hi')\n"
              "ip.system('true')\n"
              "ip.run_cell_magic('writefile', 'w.txt', 'written')", None),
        ('t', "assert in_ns and out == ['hi'] and calls\n"
              "assert open('w.txt').read() == 'written'", 1),
    ],
    'run': [
        ('a', "%run helper.py", None),
        ('t', "assert from_run == 5 and ran_as == '__main__'", 1),
    ],
    'reset': [
        ('a', "tmp = 1\n%reset -f", None),
        ('t', "assert 'tmp' not in dir()", 1),
    ],
    'load_ext': [
        ('a', "%load_ext autoreload\n%autoreload 2\n"
              "try:\n    get_ipython().run_line_magic('reload_ext', 'no_such_ext_kfid')\n"
              "    missing = False\n"
              "except ModuleNotFoundError:\n    missing = True", None),
        ('t', "assert missing", 1),
    ],
    'argv': [
        ('a', "import argparse\np = argparse.ArgumentParser()\n"
              "p.add_argument('--n', type=int, default=3)\n"
              "try:\n    n = p.parse_args().n\nexcept SystemExit as e:\n    n = e.code", None),
        ('t', "assert n == 2", 1),
    ],
    'recursion': [
        ('a', "from functools import lru_cache\n@lru_cache(None)\n"
              "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)", None),
        ('t', "assert fib(1200) % 7 >= 0", 1),
    ],
    'warnings': [
        ('a', "import warnings\ndef f():\n    warnings.warn('careful')\n    return 1\nf()", None),
        # the warning reaches the test's stderr again: 0, as in Jupyter
        ('t', "assert f() == 1", 0),
    ],
    'breakpoint': [
        ('a', "def g():\n    breakpoint()\n    return 4\nv = g()", None),
        ('t', "assert v == 4", 1),
    ],
    'await': [
        ('a', "import asyncio\nasync def h():\n    await asyncio.sleep(0)\n    return 5\n"
              "w = await h()", None),
        ('t', "assert w == 5", 1),
    ],
    'running_loop': [
        ('a', "import asyncio\nco = asyncio.sleep(0)\n"
              "try:\n    asyncio.run(co)\n    running = False\n"
              "except RuntimeError:\n    running = True\n    co.close()", None),
        ('t', "assert running and asyncio.get_event_loop().is_running()", 1),
    ],
    'memory': [
        ('a', "before = 1", None),
        # over the rubric's 1024 MiB: a MemoryError here, nothing in Jupyter
        ('c', "big = bytearray(1500 * 2**20)\ndel big", None),
        ('t', "assert before == 1", 1),
    ],
    'crlf': [
        ('a', "def sq(x):\n    return x * x\n", None),
        ('t', "r = sq(3)\nassert r == 9\n", 1),
    ],
    # notebooks as students write them
    'timeit': [
        ('a', "%timeit -n 1 -r 1 sum(range(10))\ntotal = sum(range(10))", None),
        ('t', "assert total == 45", 1),
    ],
    'shell': [
        ('a', "files = !ls\n!echo from the shell", None),
        ('t', "assert 'data.csv' in files", 1),
    ],
    'display': [
        ('a', "from IPython.display import display, Markdown\n"
              "display(Markdown('**bold**'))\ndisplay({'a': 1})\nshown = True", None),
        ('t', "display('again')\nassert shown", 1),
    ],
    'input': [
        ('a', "try:\n    answer = input('your name? ')\n    kind = None\n"
              "except Exception as e:\n    kind = e", None),
        ('t', "assert isinstance(kind, NotImplementedError)", 1),
        ('t', "name = input()", 0),
    ],
    'print_end': [
        ('a', "print('no newline', end='')\nprint('a', 'b', sep='', end='')", None),
        ('t', "print('x', end='')\nassert True", 1),
    ],
    'markdown': [
        ('m', "# Question 1\nWrite `double`.", None),
        ('a', "def double(x):\n    return 2 * x", None),
        ('m', "Only prose here.", None),
        ('t', "assert double(2) == 4", 1),
    ],
    'early_error': [
        ('c', "import no_such_module_kfid", None),
        ('c', "1 / 0", None),
        ('a', "def half(x):\n    return x / 2", None),
        ('t', "assert half(4) == 2", 1),
        ('t', "assert no_such_module_kfid", 0),
    ],
    'assert_msg': [
        ('a', "def inc(x):\n    return x + 2", None),
        ('t', "assert inc(1) == 2, 'inc(1) should be 2, got %r' % inc(1)", 0),
        ('t', "assert inc(0) == 2, 'inc(0) should be 2'", 1),
    ],
    'dataframe': [
        ('a', "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\ndf", None),
        ('t', "assert df['a'].sum() == 3\ndf.describe()", 1),
    ],
    'plot': [
        ('a', "%matplotlib inline\nimport matplotlib.pyplot as plt\nimport numpy as np\n"
              "xs = np.linspace(0, 1, 50)\nplt.plot(xs, xs ** 2)\nplt.title('x²')\nplt.show()",
         None),
        ('t', "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\nassert len(ax.lines) == 1", 1),
    ],
    'deep': [
        ('a', "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
              "def forever(n):\n    return forever(n + 1)", None),
        ('t', "assert depth(2500) == 2500", 1),
        ('t', "try:\n    forever(0)\n    hit = False\nexcept RecursionError:\n    hit = True\n"
              "assert hit", 1),
        ('t', "forever(0)", 0),
    ],
    'unicode_names': [
        ('a', "π = 3.14159\nnaïve_sum = lambda xs: sum(xs)\nΔt = 0.5\n名前 = 'ok'", None),
        ('t', "assert round(π, 2) == 3.14 and naïve_sum([1, 2]) == 3\n"
              "assert Δt == 0.5 and 名前 == 'ok'", 1),
    ],
    'long_output': [
        ('a', "for i in range(20000):\n    print(i, 'x' * 40)\nlast = i", None),
        ('t', "print('y' * 200000)\nassert last == 19999", 1),
    ],
    'comments_only': [
        ('a', "# I did not do this one\n# (yet)", None),
        ('t', "# the test is only a comment", 1),
        ('t', "", 1),
    ],
    'main_guard': [
        ('a', "def main():\n    return 7\n\nif __name__ == '__main__':\n    result = main()",
         None),
        ('t', "assert result == 7", 1),
    ],
    'future': [
        ('a', "from __future__ import annotations\n"
              "def typed(x: NotDefinedAnywhere) -> AlsoUndefined:\n    return x", None),
        ('t', "assert typed(3) == 3", 1),
        # IPython keeps a cell's __future__ flags for the cells after it
        ('t', "def later(y: StillUndefined):\n    return y\nassert later(1) == 1", 1),
    ],
    'capture': [
        ('a', "%%capture cap\nprint('hidden text')\nimport sys\n"
              "print('err text', file=sys.stderr)", None),
        ('t', "assert 'hidden text' in cap.stdout", 1),
    ],
    'help': [
        ('a', "value = 5\nlen?\nvalue?", None),
        ('c', "?print", None),
        ('t', "assert value == 5", 1),
    ],
    'history': [
        ('a', "x = 6 * 7\nx", None),
        ('t', "assert Out[1] == 42 and 'x = 6 * 7' in In[1]", 0),
    ],
    'stderr_redirect': [
        ('a', "import sys, os, warnings\nsys.stderr = open(os.devnull, 'w')\n"
              "def k():\n    warnings.warn('hidden?')\n    return 1", None),
        ('t', "assert k() == 1", 1),
    ],
}

# grade_id -> (ours, nbgrader's): where we differ on purpose (README, engine)
DIFFERENT = {
    # we give every cell its own stderr back: a test that reports failure on
    # stderr cannot be silenced by the answer (nbgrader lets it)
    't_stderr_redirect_1': (0, 1),
    # no In/Out history: In would hand the source of the cell running (a
    # hidden test's too) to a callback the notebook registered
    't_history_1': (0, 1),
}

FILES = {
    'data.csv': 'name\ncafé\n',
    'helper.py': "ran_as = __name__\nfrom_run = 5\n",
}


def cell(kind, src, gid, md_only=False):
    if kind == 'm':
        return {'cell_type': 'markdown', 'metadata': {}, 'source': src}
    md = {}
    if kind == 'a':
        md = {'nbgrader': {'schema_version': 3, 'grade': False, 'solution': True,
                           'locked': False, 'grade_id': gid}}
    elif kind == 't':
        md = {'nbgrader': {'schema_version': 3, 'grade': True, 'solution': False,
                           'locked': True, 'grade_id': gid, 'points': 1}}
    return {'cell_type': 'code', 'execution_count': None, 'metadata': md,
            'outputs': [], 'source': src}


def write(d):
    os.makedirs(d, exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        out, t = [], 0
        for kind, src, _ in cells:
            if kind == 't':
                t += 1
            if kind == 'a':
                src = '### BEGIN SOLUTION\n' + src + '\n### END SOLUTION'
            out.append(cell(kind, src, 'a_%s' % name if kind == 'a' else 't_%s_%d' % (name, t)))
        nb = {'cells': out, 'nbformat': 4, 'nbformat_minor': 5,
              'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3',
                                          'language': 'python'},
                           'language_info': {'name': 'python'}}}
        with open(os.path.join(d, name + '.ipynb'), 'w', encoding='utf-8') as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
    for name, text in FILES.items():
        with open(os.path.join(d, name), 'w', encoding='utf-8') as f:
            f.write(text)


def expected():
    exp = {}
    for name, cells in NOTEBOOKS.items():
        t = 0
        for kind, _, score in cells:
            if kind == 't':
                t += 1
                gid = 't_%s_%d' % (name, t)
                exp[gid] = list(DIFFERENT.get(gid, (score, score)))
    return exp


def submit(d):
    """The released notebooks in d, answered as the student would."""
    for name, cells in NOTEBOOKS.items():
        path = os.path.join(d, name + '.ipynb')
        nb = json.load(open(path, encoding='utf-8'))
        answer = [src for kind, src, _ in cells if kind == 'a'][0]
        for c in nb['cells']:
            if c['metadata'].get('nbgrader', {}).get('grade_id') == 'a_' + name:
                c['source'] = answer
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)


def crlf(path):
    """Save a notebook as an editor on Windows would: CRLF in every source."""
    nb = json.load(open(path, encoding='utf-8'))
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        c['source'] = src.replace('\n', '\r\n')
    with open(path, 'w', encoding='utf-8', newline='\r\n') as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)


if __name__ == '__main__':
    if sys.argv[1] == 'write':
        write(sys.argv[2])
    elif sys.argv[1] == 'submit':
        submit(sys.argv[2])
    elif sys.argv[1] == 'crlf':
        crlf(sys.argv[2])
    else:
        print(json.dumps(expected()))
