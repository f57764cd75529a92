# kernel_helper.py - the Python half of the notebook engine. The build embeds
# this file in the grader binary as a C string (Makefile: $(BUILD)/gen/
# kernel_helper.c); no .py file is installed. It only prepares, and only in
# the zygote or before any student code runs: the zygote calls _preload(),
# _needs_ipython() and, for each cell of a run, _transform(), whose texts C
# keeps in its own memory (a cell not yet run is no Python object in the
# child); the child calls _prepare() once to build the fresh __main__, seed
# the generators and set the environment. Compiling each cell right before it
# runs, running, capturing and reporting are done by C (kernel_child.c), so
# that nothing student code can rebind takes part in producing a result; C
# checks the shape of every value it reads back. C runs this file twice: the
# engine's copy, and the copy whose shell and display() the notebook gets.
import sys, os, io, ast, re, signal, random, builtins, types, traceback

_LINE = re.compile(r'^(\s*)(?:[%!?]|[\w.]+\s*=\s*[%!])')
_HELP = re.compile(r'^\s*[\w.]+\?\??\s*$')
_ASSIGN = re.compile(r'^(\s*)([\w.]+)\s*=\s*[%!]')
_tm = None
_TLA = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

def _ipy_lines(src):
    return [n for n, l in enumerate(src.split('\n'), 1)
            if _LINE.match(l) or _HELP.match(l)]

def _needs_ipython(sources):
    # IPython transforms every cell that is not Python (indentation, >>>
    # prompts, magics, shell escapes); valid Python it leaves as it is.
    # A one-line magic (automagic) needs no transformer, but IPython installed.
    for s in sources:
        if _ipy_lines(s) or _automagic(s):
            return True
        try:
            compile(s, '<cell>', 'exec', ast.PyCF_ONLY_AST | _TLA, True)
        except SyntaxError:
            return True
        except Exception:
            pass
    return False

def _load_ipython():
    # Only IPython's input transformer, executed from the installed package's
    # own file: that module imports nothing but the standard library, whereas
    # importing it through the package runs IPython/__init__, some 500 modules
    # and 24 MB that every child's fork would copy and every check of the
    # monkeypatch watcher would walk, for one class. Not in sys.modules: a
    # notebook's `import IPython` imports the package afresh, as in a child
    # before. Then the zygote puts back what the notebook sees (_restore), so
    # that children need not.
    global _tm
    if _tm is None:
        try:
            import gc
            import importlib.util
            pkg = importlib.util.find_spec('IPython')
            path = os.path.join(pkg.submodule_search_locations[0], 'core',
                                'inputtransformer2.py')
            spec = importlib.util.spec_from_file_location(
                'IPython.core.inputtransformer2', path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            _tm = mod.TransformerManager()
            gc.freeze()
            _restore()
        except Exception:
            _tm = False
    return _tm

# Never loaded in this interpreter: once _ctypes is in memory, pure Python can
# reach memory without an audit event (c_char_p(address).value reads any
# address, a Union of c_void_p and POINTER writes any), whoever imported it.
_BLOCKED = ('_ctypes', 'cffi', '_cffi_backend', '_testcapi',
            '_testinternalcapi', '_testbuffer', '_testmultiphase', '_ctypes_test',
            '_xxtestfuzz', '_testimportmultiple', '_xxsubinterpreters')

def _ctypes_inert():
    """What `import ctypes` gives without allow_ctypes: a module that imports
    (pandas, scipy and numpy import ctypes and build types at import) but holds
    no C: its objects are inert and every call that would reach C or memory is
    refused."""
    def refuse(*args, **kwargs):
        raise PermissionError('ctypes cannot call C or reach memory when grading '
                              "(a rubric's allow_ctypes lets it)")
    class CData:
        def __init__(self, *args, **kwargs):
            pass
        def __getattr__(self, name):
            raise AttributeError('ctypes cannot reach memory when grading (%s)' % name)
        __call__ = refuse
    def cls(name):
        return type(name, (CData,), {'__module__': 'ctypes'})
    def cast(obj, typ):
        # scipy casts its own C callbacks at import: an inert object, no address read
        if isinstance(typ, type) and issubclass(typ, CData):
            return typ()
        refuse()
    m = types.ModuleType('ctypes', 'ctypes without C (grading): importable, every use refused')
    for n in ('c_bool c_byte c_char c_char_p c_double c_float c_int c_int8 c_int16 c_int32 '
              'c_int64 c_long c_longdouble c_longlong c_short c_size_t c_ssize_t c_ubyte '
              'c_uint c_uint8 c_uint16 c_uint32 c_uint64 c_ulong c_ulonglong c_ushort '
              'c_void_p c_voidp c_wchar c_wchar_p py_object Structure Union Array '
              'BigEndianStructure LittleEndianStructure CDLL PyDLL LibraryLoader '
              '_CFuncPtr _SimpleCData _Pointer _CData').split():
        setattr(m, n, cls(n))
    for n in ('CFUNCTYPE', 'PYFUNCTYPE', 'POINTER'):
        setattr(m, n, lambda *a, _n=n, **k: cls(_n + '_type'))
    for n in ('pointer', 'byref', 'addressof', 'sizeof', 'alignment', 'resize', 'string_at',
              'wstring_at', 'memmove', 'memset', 'create_string_buffer',
              'create_unicode_buffer', 'get_errno', 'set_errno', 'WinError', 'FormatError'):
        setattr(m, n, refuse)
    m.cast = cast
    m.ArgumentError = type('ArgumentError', (Exception,), {'__module__': 'ctypes'})
    m.cdll = m.pydll = m.pythonapi = None
    return m

def _preload(names, allow_ctypes):
    os.environ['MPLBACKEND'] = 'Agg'
    for m in ('ctypes',) + _BLOCKED:
        if m in sys.modules and sys.modules[m] is not None:
            return 'cannot block %r: already loaded' % m
    if not allow_ctypes:
        sys.modules['ctypes'] = _ctypes_inert()
    for m in _BLOCKED[3 if allow_ctypes else 0:]:
        sys.modules[m] = None
    for name in names:
        try:
            __import__(name)
            if name == 'matplotlib' or name.startswith('matplotlib.'):
                import matplotlib
                matplotlib.use('Agg')
        except BaseException as e:
            return 'cannot preload %r: %s' % (name, str(e) or type(e).__name__)
    # The box's only backend, which pyplot imports at a notebook's first
    # figure (8-9 ms of every plotting child), as rubric import's detected
    # preloads have it; without it the child imports it as before.
    if 'matplotlib' in sys.modules:
        try:
            __import__('matplotlib.backends.backend_agg')
        except Exception:
            pass
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
    # what ipykernel's process has (argparse in an answer exits 2, as in Jupyter)
    sys.argv = ['/usr/lib/python3/dist-packages/ipykernel_launcher.py', '-f',
                '/tmp/kernel-grader.json', '--HistoryManager.hist_file=:memory:']
    sys.stdin = io.StringIO('')
    # input() as ipykernel's when the frontend sends none (nbgrader's); the
    # notebook's copy of the helper holds it
    builtins.input = _PUB['_no_input']
    # stdin is closed: breakpoint() returns at once, as in a kernel
    sys.breakpointhook = _no_breakpoint
    sys.setrecursionlimit(_RECURSION)
    if sys.path[:1] != ['']:
        sys.path.insert(0, '')
    _BASE[:] = [set(sys.modules), list(warnings.filters), list(sys.meta_path)]
    # Children never walk what the zygote built: fewer copy-on-write faults.
    gc.collect()
    gc.freeze()

# IPython's recursion limit, and the zygote's state as _freeze() left it: a
# module the zygote imports later for one notebook (IPython's transformer)
# must not change what the next notebook sees.
_RECURSION = 3000
_BASE = []

def _import_asyncio():
    # imported by the zygote for a notebook that awaits, asyncio stays for
    # every later child (C holds its loop class); what an earlier notebook's
    # IPython import brought does not
    import gc
    before = set(sys.modules)
    import asyncio
    if _BASE:
        _BASE[0] |= set(sys.modules) - before
    gc.freeze()

def _no_breakpoint(*args, **kw):
    return None

def _restore():
    import warnings
    sys.setrecursionlimit(_RECURSION)
    if not _BASE:
        return
    mods, filters, meta = _BASE
    if len(sys.modules) != len(mods):
        for m in [m for m in sys.modules if m not in mods]:
            del sys.modules[m]
    if warnings.filters != filters:
        warnings.filters[:] = filters
        warnings._filters_mutated()
    if sys.meta_path != meta:
        sys.meta_path[:] = meta

# A note names a magic, never quotes the notebook's text: a note the
# notebook could write ("refused: ...") would pass for the engine's.
_MAGIC_WORD = re.compile(r'[%!?]{1,2}[\w.]*')

def _word(s):
    s = str(s)
    w = re.match(r'[%!?]{0,2}[A-Za-z0-9_.]{0,40}', s).group(0)
    return w if w and w == s else (w or '?') + '...'

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
            notes.append('%%' + _word(name) + ' ignored')
            bad = _ipy_lines('\n'.join(lines))
        elif name == 'writefile':
            body = '\n'.join(lines[first + 1:])
            mode = 'a' if arg.startswith('-a') else 'w'
            fname = arg[2:].strip() if mode == 'a' else arg.strip()
            return ('with open(%r, %r) as _f: _f.write(%r)\n' % (fname, mode, body),
                    '%%writefile done without IPython')
        else:
            return ('\n' * len(lines),
                    'cell magic %%' + _word(name) + ' not run (IPython not used)')
    for n in bad:
        line = lines[n - 1]
        m = _ASSIGN.match(line)
        indent = line[:len(line) - len(line.lstrip())]
        lines[n - 1] = indent + (m.group(2) + ' = None' if m else 'pass')
        magic = _MAGIC_WORD.search(line)
        notes.append('line %d: %s' % (n, _word(magic.group(0)) if magic else '?'))
    return ('\n'.join(lines),
            'IPython syntax replaced by no-ops (IPython not used): ' + '; '.join(notes))

def _split(code, name, tree=None):
    """(body, expr): the texts of a cell's statements and of its trailing
    expression (None when there is none), to be compiled as 'exec' and
    'eval'. expr keeps its line numbers (blank lines before it)."""
    if tree is None:
        tree = compile(code, name, 'exec', ast.PyCF_ONLY_AST | _TLA, True)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr) or code.rstrip().endswith(';'):
        return code, None
    last = tree.body[-1]
    lines = code.split('\n')
    line = lines[last.lineno - 1]
    # col_offset counts UTF-8 bytes of its line
    start = sum(len(l) + 1 for l in lines[:last.lineno - 1]) + \
        len(line.encode('utf-8', 'surrogatepass')[:last.col_offset].decode('utf-8', 'surrogatepass'))
    return code[:start], '\n' * (last.lineno - 1) + code[start:]

def _imports(tree):
    """What the cell's own import statements bind in the notebook's
    namespace (outside functions and classes), one 'NAME MODULE NATURAL'
    line each, for C's check of the modules a test reads (kernel_guard.c):
    `import numpy as np` -> 'np numpy 0', `from numpy import random` ->
    'random numpy.random 1' (NATURAL: the name is the module's own last part,
    not an alias chosen by the notebook)."""
    out, todo = [], list(tree.body)
    while todo:
        st = todo.pop()
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(st, ast.Import):
            for a in st.names:
                top = a.name.split('.')[0]
                out.append((a.asname, a.name, a.name.split('.')[-1] == a.asname)
                           if a.asname else (top, top, True))
        elif isinstance(st, ast.ImportFrom) and not st.level and st.module:
            out.extend((a.asname or a.name, st.module + '.' + a.name,
                        a.asname in (None, a.name)) for a in st.names if a.name != '*')
        todo.extend(ast.iter_child_nodes(st))
    return ''.join('%s %s %d\n' % t for t in out) or None

class PrepTimeout(Exception):
    """The zygote's CPU for preparing one run's cells ran out."""

def _prep_guard(seconds):
    """Around the preparation of one run's cells, in the zygote (kernel_py.c
    arms ITIMER_PROF for `seconds` of CPU): SIGPROF then raises PrepTimeout
    in whatever is preparing; 0 puts the default back before any fork."""
    if seconds > 0:
        def _over(signum, frame):
            raise PrepTimeout('preparing the cells took over %d s of CPU' % seconds)
        signal.signal(signal.SIGPROF, _over)
    else:
        signal.signal(signal.SIGPROF, signal.SIG_DFL)

def _transform(src, n, use_ipython):
    """Cell n (1-based), in the zygote: (code, note, error, body, expr,
    imports) where code is the text run (IPython syntax transformed), error
    None or (ename, evalue, traceback) of a syntax error, body/expr as
    _split()'s, imports as _imports()'."""
    name = '<cell %d>' % n
    # the parser's line ends, so that offsets into code are the parser's
    code, note = src.replace('\r\n', '\n').replace('\r', '\n'), None
    try:
        code, note = _cell_code(code, _load_ipython if use_ipython else None, use_ipython)
        tree = compile(code, name, 'exec', ast.PyCF_ONLY_AST | _TLA, True)
        body, expr = _split(code, name, tree)
        return code, note, None, body, expr, _imports(tree)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        tb = ''.join(traceback.format_exception_only(type(e), e))
        return code, note, (type(e).__name__, str(e), tb), '', None, None

class _Events:
    """get_ipython().events: callbacks run around every cell, as IPython's."""
    def __init__(self):
        self.callbacks = {'pre_execute': [], 'pre_run_cell': [],
                          'post_execute': [], 'post_run_cell': []}
    def register(self, event, function):
        if event not in self.callbacks:
            raise KeyError('Unknown event %s' % event)
        if not callable(function):
            raise TypeError('Need a callable, got %r' % function)
        if function not in self.callbacks[event]:
            self.callbacks[event].append(function)
    def unregister(self, event, function):
        try:
            self.callbacks[event].remove(function)
        except ValueError:
            raise ValueError('Function %r is not registered as a %s callback'
                             % (function, event)) from None
    def trigger(self, event, *args, **kw):
        for f in self.callbacks[event][:]:
            try:
                f(*args, **kw)
            except (Exception, KeyboardInterrupt):
                print('Error in callback %r (for %s):' % (f, event), file=sys.stderr)
                traceback.print_exc()

class _Result:
    """What post_run_cell callbacks receive (ExecutionResult's common fields)."""
    def __init__(self, info):
        self.info, self.success = info, True
        self.error_before_exec = self.error_in_exec = self.result = None

# Aliases IPython defines on POSIX, and the line magics run here by name
# (automagic: a bare `pwd` or `ls -l` on a line of its own).
_ALIASES = {'ls': 'ls -F', 'll': 'ls -F -l', 'lf': 'ls -F -l | grep ^-',
            'lk': 'ls -F -l | grep ^l', 'ldir': 'ls -F -l | grep /$',
            'lx': 'ls -F -l | grep ^-..x', 'cat': 'cat', 'cp': 'cp', 'mv': 'mv',
            'rm': 'rm', 'mkdir': 'mkdir', 'rmdir': 'rmdir', 'clear': 'true'}
_NOOP = ('matplotlib', 'autoreload', 'aimport', 'config', 'precision', 'xmode',
         'pinfo', 'pinfo2', 'autosave', 'colors', 'automagic', 'pdb', 'load_ext',
         'reload_ext', 'unload_ext', 'time', 'timeit', 'run', 'reset', 'pwd',
         'cd', 'env', 'who', 'whos', 'pip', 'conda', 'sx', 'system', 'prun',
         'history', 'store', 'alias', 'doctest_mode', 'page', 'rehashx')
_MAGICS = frozenset(_NOOP) | frozenset(_ALIASES)
_AUTO = re.compile(r'^([A-Za-z_]\w*)(?:\s+(.*?))?\s*$', re.S)

def _automagic(code):
    """IPython's automagic for a one-line cell: `pwd`, `ls -l`, `cd ..`,
    decided when it runs (a name the notebook defined is Python again)."""
    if '\n' in code.strip():
        return None
    m = _AUTO.match(code.strip())
    if not m or m.group(1) not in _MAGICS or m.group(1) in ('time', 'system'):
        return None
    rest = m.group(2) or ''
    if rest[:1] in ('=', '(', '[', '.', ',', ')') or rest[:2] in ('==',) or \
            re.match(r'^(?:[-+*/%&|^<>]=|is\b|in\b|and\b|or\b|if\b)', rest):
        return None
    return 'get_ipython()._automagic(%r, %r, %r)\n' % (m.group(1), rest, code.strip())

class _Shell:
    """The IPython services notebooks call through get_ipython(), served
    without an IPython shell: magics students use, the shell, the events."""
    def __init__(self, ns, notes):
        self.user_ns = ns
        self._notes = notes
        self.events = _Events()
        self.execution_count = 0
        self.extension_manager = self
        self.loaded = set()
        self._tm = None
    def _run(self, code):
        # a cell magic's body is IPython input too (%%time over %matplotlib)
        if self._tm:
            code = _cell_code(code, lambda: self._tm, True)[0]
        body, expr = _split(code, '<magic>')
        exec(compile(body, '<magic>', 'exec', _TLA, True), self.user_ns)
        return eval(compile(expr, '<magic>', 'eval', _TLA, True), self.user_ns) if expr else None
    def _automagic(self, name, rest, line):
        if name in self.user_ns or hasattr(builtins, name):
            return self._run(line)
        return self.run_line_magic(name, rest)
    def magic(self, line):
        name, _, rest = line.lstrip('%').partition(' ')
        return self.run_line_magic(name, rest)
    def _ext(self, name, reload):
        import importlib
        if name in ('autoreload', 'storemagic'):
            return None
        fresh = name not in sys.modules
        mod = importlib.import_module(name)
        if reload and not fresh:
            mod = importlib.reload(mod)
        elif name in self.loaded:
            return 'already loaded'
        load = getattr(mod, 'load_ipython_extension', None)
        if load is not None:
            try:
                load(self)
            except AttributeError as e:
                self._notes.append('extension %s: not an IPython shell' % _word(name))
        self.loaded.add(name)
        return None
    def _runfile(self, line):
        import runpy, shlex
        args = shlex.split(line)
        inside = '-i' in args
        args = [a for a in args if a not in ('-i', '-e')]
        if not args:
            raise UsageError('%run: a file name is needed')
        path = args[0]
        if not os.path.exists(path) and os.path.exists(path + '.py'):
            path += '.py'
        if not os.path.isfile(path):
            raise UsageError('File %r not found.' % args[0])
        saved = sys.argv
        sys.argv = [path] + args[1:]
        try:
            if inside:
                g = runpy.run_path(path, init_globals=dict(self.user_ns), run_name='__main__')
            else:
                g = runpy.run_path(path, run_name='__main__')
        finally:
            sys.argv = saved
        for k, v in g.items():
            if k not in ('__builtins__', '__name__', '__file__', '__cached__',
                         '__loader__', '__spec__', '__package__', '__doc__'):
                self.user_ns[k] = v
    def _reset(self, line):
        if '-f' not in line.split():
            raise UsageError('%reset asks for confirmation, and stdin is closed: use %reset -f')
        keep = {k: self.user_ns[k] for k in ('__name__', '__builtins__', '__doc__',
                                             'get_ipython', 'display') if k in self.user_ns}
        self.user_ns.clear()
        self.user_ns.update(keep)
    def _timeit(self, line, cell=None):
        # IPython times the statement inside a function: names it assigns do
        # not stay (run once here, untimed)
        while True:
            m = _TIMEIT_OPT.match(line)
            if not m or not m.group(0):
                break
            line = line[m.end():]
        scratch = {}
        for code in (line, cell):
            if code and code.strip():
                code = _cell_code(code, lambda: self._tm, True)[0] if self._tm else code
                exec(compile(code, '<magic>', 'exec', _TLA, True), self.user_ns, scratch)
        return None
    def _capture(self, line, cell):
        import contextlib
        args = line.split()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.ExitStack() as stack:
            if '--no-stdout' not in args:
                stack.enter_context(contextlib.redirect_stdout(out))
            if '--no-stderr' not in args:
                stack.enter_context(contextlib.redirect_stderr(err))
            self._run(cell)
        names = [a for a in args if not a.startswith('-')]
        if names:
            self.user_ns[names[0]] = _Captured(out.getvalue(), err.getvalue())
        return None
    def run_line_magic(self, name, line, _stack_depth=1):
        if name == 'timeit':
            return self._timeit(line)
        if name in ('time', 'prun'):
            return self._run(line) if line.strip() else None
        if name in ('load_ext', 'reload_ext'):
            for ext in line.split():
                if self._ext(ext, name == 'reload_ext') == 'already loaded':
                    print('The %s extension is already loaded. To reload it, use:\n'
                          '  %%reload_ext %s' % (ext, ext))
            return None
        if name == 'run':
            return self._runfile(line)
        if name == 'reset':
            return self._reset(line)
        if name == 'pwd':
            return os.getcwd()
        if name == 'cd':
            os.chdir(os.path.expanduser(line.strip() or '~'))
            print(os.getcwd())
            return None
        if name == 'env':
            return dict(os.environ) if not line.strip() else os.environ.get(line.strip())
        if name in ('who', 'whos'):
            print('  '.join(sorted(k for k in self.user_ns if not k.startswith('_')
                                   and k not in ('get_ipython', 'display'))))
            return None
        if name in ('sx', 'system'):
            return self.getoutput(line)
        if name in ('pip', 'conda'):
            self._notes.append('%%%s not run (no network in the box)' % _word(name))
            return None
        if name in _ALIASES:
            return self.system(_ALIASES[name] + (' ' + line if line else ''))
        if name in _NOOP:
            return None
        self._notes.append('%' + _word(name) + ' not run')
    def run_cell_magic(self, name, line, cell):
        if name == 'timeit':
            return self._timeit(line, cell)
        if name == 'capture':
            return self._capture(line, cell)
        if name in ('time', 'prun'):
            return self._run(cell)
        if name == 'writefile':
            a = line.split()
            with open(a[-1], 'a' if '-a' in a else 'w') as f:
                f.write(cell)
            print('Appending to %s' % a[-1] if '-a' in a else 'Writing %s' % a[-1])
            return None
        if name in ('bash', 'sh', 'script'):
            import subprocess
            sys.stdout.flush()
            subprocess.run(['/bin/bash' if name == 'bash' else '/bin/sh', '-c', cell])
            return None
        self._notes.append('%%' + _word(name) + ' not run')
    def system(self, cmd):
        import subprocess
        sys.stdout.flush()
        sys.stderr.flush()
        self.user_ns['_exit_code'] = subprocess.run(cmd, shell=True).returncode
    def getoutput(self, cmd, split=True):
        import subprocess
        out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
        return out.splitlines() if split else out
    def ev(self, expr):
        return eval(expr, self.user_ns)
    def ex(self, cmd):
        exec(cmd, self.user_ns)
    def push(self, variables, interactive=True):
        self.user_ns.update(variables)

class UsageError(Exception):
    """IPython's UsageError, raised by a magic used wrongly."""

# %timeit's options (IPython's getopt 'n:r:tcp:qo') before the statement
_TIMEIT_OPT = re.compile(r'\s*-(?:[nrp]\s*\d+|[tcqo]+)(?=\s|$)\s*')

class _Captured:
    """What %%capture binds: IPython's CapturedIO, text only."""
    def __init__(self, stdout, stderr):
        self.stdout, self.stderr, self.outputs = stdout, stderr, []
    def show(self):
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)
    __call__ = show
    def __str__(self):
        return self.stdout

class StdinNotImplementedError(NotImplementedError):
    """What input() raises in a Jupyter kernel: nbgrader sends no input."""
StdinNotImplementedError.__module__ = 'IPython.core.error'

def _no_input(prompt=''):
    raise StdinNotImplementedError(
        'raw_input was called, but this frontend does not support input requests.')

_SHELL = []

def _pre_cell(uses_async):
    """Before each cell (C calls it, telling whether the cell's text mentions
    async or await; C marks the event loop running): warnings show again, as
    in a kernel, and the events fire."""
    import warnings
    warnings._filters_mutated()
    if _SHELL:
        sh = _SHELL[0]
        sh.execution_count += 1
        sh.events.trigger('pre_execute')
        sh.events.trigger('pre_run_cell', _Result(None))

def _post_cell():
    """After each cell: the events, then the figures (inline backend)."""
    if _SHELL:
        sh = _SHELL[0]
        sh.events.trigger('post_execute')
        sh.events.trigger('post_run_cell', _Result(None))
    if 'matplotlib.pyplot' in sys.modules:
        _flush_figures()

def _flush_figures():
    # IPython's inline backend shows, then closes, every figure at the end of
    # a cell. _post_cell is the one place that calls this: keeping the images
    # as display_data outputs means recording each open figure here, before
    # the close.
    sys.modules['matplotlib.pyplot'].close('all')

# display() and the figures left open by a cell become display_data outputs:
# (bytes of stdout and stderr written before it, after the result?, mime data).
# They are shown, never scored, so they may be built in Python.
_displays = []

def _mime(o):
    import base64
    data = {}
    if type(o).__name__ == 'Figure' and hasattr(o, 'savefig'):
        b = io.BytesIO()
        o.savefig(b, format='png', bbox_inches='tight')
        data['image/png'] = base64.b64encode(b.getvalue()).decode('ascii')
    for meth, mime in (('_repr_png_', 'image/png'), ('_repr_jpeg_', 'image/jpeg'),
                       ('_repr_svg_', 'image/svg+xml'), ('_repr_html_', 'text/html'),
                       ('_repr_markdown_', 'text/markdown'), ('_repr_latex_', 'text/latex')):
        f = getattr(o, meth, None)
        if mime in data or not callable(f):
            continue
        try:
            v = f()
        except Exception:
            continue
        if isinstance(v, tuple):
            v = v[0]
        if isinstance(v, bytes) and mime.startswith('image/') and mime != 'image/svg+xml':
            v = base64.b64encode(v).decode('ascii')
        if isinstance(v, str):
            data[mime] = v
    data['text/plain'] = repr(o)
    return data

def _record(o, post):
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
    try:
        data = _mime(o)
    except Exception as e:
        data = {'text/plain': '<display failed: %s>' % type(e).__name__}
    pos = _cap_pos() if '_cap_pos' in globals() else (0, 0)
    _displays.append((pos[0], pos[1], post, data))

def _display(*objs, **kw):
    for o in objs:
        _record(o, False)

def _flush_figures():
    # IPython's inline backend shows and closes every open figure after a cell.
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return
    for num in plt.get_fignums():
        _record(plt.figure(num), True)
    plt.close('all')

def _on_timeout(signum, frame):
    raise TimeoutError('cell timed out')

def _cell_code(src, load, use_ipython):
    """The text that runs for one cell, and a note: IPython's transformations
    for what is not Python (with IPython, else no-ops), automagic when the
    cell is one line. load() gives IPython's TransformerManager (or a false
    value); it is called only for a cell that is not Python."""
    code, note = src, None
    try:
        compile(src, '<cell>', 'exec', ast.PyCF_ONLY_AST | _TLA, True)
    except SyntaxError:
        bad = _ipy_lines(src)
        tm = load() if load else None
        if tm:
            code = tm.transform_cell(src)
        elif bad:
            code, note = _fallback(src, bad)
        else:
            return src, None
    if use_ipython:
        auto = _automagic(code)
        if auto:
            code = auto
    return code, note

def _getter(shell):
    return lambda: shell

def _prepare(use_ipython, seed, sig):
    """The child's fresh __main__ and the notes list IPython services append to.
    What the notebook gets (the shell, display, get_ipython) comes from the
    helper's second copy (_PUB, set by C): its functions' __globals__ lead
    there, not here."""
    main = types.ModuleType('__main__')
    ns = main.__dict__
    ns['__builtins__'] = builtins
    sys.modules['__main__'] = main
    notes = []
    _restore()
    pub = _PUB
    shell = pub['_Shell'](ns, notes)
    shell._tm = _tm if use_ipython else None
    pub['_SHELL'][:] = [shell]
    ns['get_ipython'] = pub['_getter'](shell)
    ns['display'] = pub['_display']
    random.seed(seed)
    if 'numpy' in sys.modules:
        sys.modules['numpy'].random.seed(seed & 0xffffffff)
    signal.signal(sig, _on_timeout)
    return ns, notes
