# kernel_helper.py - the Python half of the notebook engine. The build embeds
# this file in the grader binary as a C string (Makefile: $(BUILD)/gen/
# kernel_helper.c); no .py file is installed. It only prepares: the zygote
# calls _preload() and _needs_ipython(); the child calls _prepare() once,
# before any student code runs, to build the fresh __main__, transform IPython
# syntax, split and compile every cell, seed the generators and set the
# environment. Running the cells, capturing and reporting are done by C
# (kernel_child.c), so that nothing student code can rebind takes part in
# producing a result; C checks the shape of every value it reads back.
import sys, os, io, ast, re, signal, random, builtins, types, traceback

_LINE = re.compile(r'^(\s*)(?:[%!?]|[\w.]+\s*=\s*[%!])')
_HELP = re.compile(r'^\s*[\w.]+\?\??\s*$')
_ASSIGN = re.compile(r'^(\s*)([\w.]+)\s*=\s*[%!]')
_tm = None

def _ipy_lines(src):
    return [n for n, l in enumerate(src.split('\n'), 1)
            if _LINE.match(l) or _HELP.match(l)]

def _needs_ipython(sources):
    return any(_ipy_lines(s) for s in sources)

def _load_ipython():
    global _tm
    if _tm is None:
        try:
            from IPython.core.inputtransformer2 import TransformerManager
            _tm = TransformerManager()
            import gc
            gc.freeze()
        except Exception:
            _tm = False
    return _tm

# Never loaded in this interpreter: once _ctypes is in memory, pure Python can
# reach its classes (object.__subclasses__) and read or write any address.
_BLOCKED = ('ctypes', '_ctypes', 'cffi', '_cffi_backend', '_testcapi',
            '_testinternalcapi', '_testbuffer', '_testmultiphase', '_ctypes_test',
            '_xxtestfuzz', '_testimportmultiple', '_xxsubinterpreters')

def _preload(names, allow_ctypes):
    os.environ['MPLBACKEND'] = 'Agg'
    for m in _BLOCKED[4 if allow_ctypes else 0:]:
        if m in sys.modules and sys.modules[m] is not None:
            return 'cannot block %r: already loaded' % m
        sys.modules[m] = None
    for name in names:
        try:
            __import__(name)
            if name == 'matplotlib' or name.startswith('matplotlib.'):
                import matplotlib
                matplotlib.use('Agg')
        except BaseException as e:
            return 'cannot preload %r: %s' % (name, str(e) or type(e).__name__)
    _freeze()
    return None

def _freeze():
    # What every child starts with, set once here rather than in each child.
    import warnings, gc
    warnings.filterwarnings('ignore', message='.*non-GUI backend.*')
    os.environ.clear()
    os.environ.update({'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': '/box',
                       'LANG': 'C.UTF-8', 'TMPDIR': '/tmp', 'MPLBACKEND': 'Agg',
                       'MPLCONFIGDIR': '/tmp/matplotlib', 'OPENBLAS_NUM_THREADS': '1',
                       'OMP_NUM_THREADS': '1'})
    sys.argv = ['']
    sys.stdin = io.StringIO('')
    if sys.path[:1] != ['']:
        sys.path.insert(0, '')
    # Children never walk what the zygote built: fewer copy-on-write faults.
    gc.collect()
    gc.freeze()

def _fallback(src, bad):
    lines = src.split('\n')
    notes = []
    first = next((i for i, l in enumerate(lines) if l.strip()), None)
    if first is not None and lines[first].lstrip().startswith('%%'):
        words = lines[first].strip()[2:].split(None, 1)
        name = words[0] if words else ''
        arg = words[1] if len(words) > 1 else ''
        if name in ('time', 'timeit', 'capture', 'prun'):
            lines[first] = ''
            notes.append('%%' + name + ' ignored')
            bad = _ipy_lines('\n'.join(lines))
        elif name == 'writefile':
            body = '\n'.join(lines[first + 1:])
            mode = 'a' if arg.startswith('-a') else 'w'
            fname = arg[2:].strip() if mode == 'a' else arg.strip()
            return ('with open(%r, %r) as _f: _f.write(%r)\n' % (fname, mode, body),
                    '%%writefile done without IPython')
        else:
            return ('\n' * len(lines),
                    'cell magic %%' + name + ' not run (IPython not used)')
    for n in bad:
        line = lines[n - 1]
        m = _ASSIGN.match(line)
        indent = line[:len(line) - len(line.lstrip())]
        lines[n - 1] = indent + (m.group(2) + ' = None' if m else 'pass')
        notes.append('line %d: %s' % (n, line.strip()[:60]))
    return ('\n'.join(lines),
            'IPython syntax replaced by no-ops (IPython not used): ' + '; '.join(notes))

def _split(code, name):
    tree = compile(code, name, 'exec', ast.PyCF_ONLY_AST, True)
    expr = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        if not code.rstrip().endswith(';'):
            expr = compile(ast.Expression(last.value), name, 'eval', 0, True)
        else:
            tree.body.append(last)
    return compile(tree, name, 'exec', 0, True), expr

class _Shell:
    """The few IPython services transformed cells call (get_ipython())."""
    def __init__(self, ns, notes):
        self.user_ns = ns
        self._notes = notes
    def _run(self, code):
        body, expr = _split(code, '<magic>')
        exec(body, self.user_ns)
        return eval(expr, self.user_ns) if expr else None
    def run_line_magic(self, name, line, _stack_depth=1):
        if name in ('time', 'timeit'):
            return self._run(line) if line.strip() else None
        if name in ('matplotlib', 'load_ext', 'reload_ext', 'autoreload', 'config',
                    'pinfo', 'pinfo2', 'precision', 'xmode'):
            return None
        if name == 'pwd':
            return os.getcwd()
        self._notes.append('%' + name + ' not run')
    def run_cell_magic(self, name, line, cell):
        if name in ('time', 'timeit', 'capture', 'prun'):
            return self._run(cell)
        if name == 'writefile':
            a = line.split()
            with open(a[-1], 'a' if '-a' in a else 'w') as f:
                f.write(cell)
            return None
        self._notes.append('%%' + name + ' not run')
    def system(self, cmd):
        import subprocess
        sys.stdout.flush()
        subprocess.run(cmd, shell=True)
    def getoutput(self, cmd, split=True):
        import subprocess
        out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
        return out.splitlines() if split else out

def _display(*objs, **kw):
    for o in objs:
        print(repr(o))

def _on_timeout(signum, frame):
    raise TimeoutError('cell timed out')

def _prepare(sources, use_ipython, seed, sig):
    main = types.ModuleType('__main__')
    ns = main.__dict__
    ns['__builtins__'] = builtins
    sys.modules['__main__'] = main
    notes = []
    tm = _load_ipython() if use_ipython and _needs_ipython(sources) else None
    if tm:
        shell = _Shell(ns, notes)
        ns['get_ipython'] = lambda: shell
    ns['display'] = _display
    cells = []
    for n, src in enumerate(sources, 1):
        name = '<cell %d>' % n
        code, note = src, None
        try:
            try:
                body, expr = _split(src, name)
            except SyntaxError:
                bad = _ipy_lines(src)
                if not bad:
                    raise
                if tm:
                    code = tm.transform_cell(src)
                else:
                    code, note = _fallback(src, bad)
                body, expr = _split(code, name)
            cells.append((body, expr, note, None, code))
        except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
            tb = ''.join(traceback.format_exception_only(type(e), e))
            cells.append((None, None, note, (type(e).__name__, str(e), tb), code))
    random.seed(seed)
    if 'numpy' in sys.modules:
        sys.modules['numpy'].random.seed(seed & 0xffffffff)
    signal.signal(sig, _on_timeout)
    return ns, cells, notes
