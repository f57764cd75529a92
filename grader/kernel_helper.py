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
_TLA = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

def _ipy_lines(src):
    return [n for n, l in enumerate(src.split('\n'), 1)
            if _LINE.match(l) or _HELP.match(l)]

def _needs_ipython(sources):
    # IPython transforms every cell that is not Python (indentation, >>>
    # prompts, magics, shell escapes); valid Python it leaves as it is.
    for s in sources:
        if _ipy_lines(s):
            return True
        try:
            compile(s, '<cell>', 'exec', ast.PyCF_ONLY_AST | _TLA, True)
        except SyntaxError:
            return True
        except Exception:
            pass
    return False

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
    # what ipykernel's process has (argparse in an answer exits 2, as in Jupyter)
    sys.argv = ['/usr/lib/python3/dist-packages/ipykernel_launcher.py', '-f',
                '/tmp/kernel-grader.json', '--HistoryManager.hist_file=:memory:']
    sys.stdin = io.StringIO('')
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
    # top-level await compiles (autoawait); C runs such a cell's coroutine
    tree = compile(code, name, 'exec', ast.PyCF_ONLY_AST | _TLA, True)
    expr = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        if not code.rstrip().endswith(';'):
            expr = compile(ast.Expression(last.value), name, 'eval', _TLA, True)
        else:
            tree.body.append(last)
    return compile(tree, name, 'exec', _TLA, True), expr

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
            code = _cell_code(code, self._tm, True)[0]
        body, expr = _split(code, '<magic>')
        exec(body, self.user_ns)
        return eval(expr, self.user_ns) if expr else None
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
                self._notes.append('extension %s: %s (not an IPython shell)' % (name, e))
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
    def run_line_magic(self, name, line, _stack_depth=1):
        if name in ('time', 'timeit', 'prun'):
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
            self._notes.append('%%%s not run (no network in the box)' % name)
            return None
        if name in _ALIASES:
            return self.system(_ALIASES[name] + (' ' + line if line else ''))
        if name in _NOOP:
            return None
        self._notes.append('%' + name + ' not run')
    def run_cell_magic(self, name, line, cell):
        if name in ('time', 'timeit', 'capture', 'prun'):
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
        self._notes.append('%%' + name + ' not run')
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

# asyncio as in a kernel: cells run inside a running event loop (asyncio.run()
# and run_until_complete() say so), and a cell may `await` at top level.
_LOOP = []

def _loop_running(on):
    import asyncio, threading
    if not _LOOP:
        _LOOP.append(asyncio.new_event_loop())
        asyncio.set_event_loop(_LOOP[0])
    loop = _LOOP[0]
    loop._thread_id = threading.get_ident() if on else None
    asyncio.events._set_running_loop(loop if on else None)
    return loop

def _run_async(coro):
    """Run a top-level-await cell's coroutine on the notebook's loop."""
    loop = _loop_running(False)
    try:
        return loop.run_until_complete(coro)
    finally:
        _loop_running(True)

_SHELL = []

def _pre_cell(code):
    """Before each cell (C calls it): warnings show again, as in a kernel;
    the event loop counts as running once the notebook uses asyncio."""
    import warnings
    warnings._filters_mutated()
    if _LOOP or 'async' in code or 'await' in code:
        _loop_running(True)
    if _SHELL:
        sh = _SHELL[0]
        sh.execution_count += 1
        sh.events.trigger('pre_execute')
        sh.events.trigger('pre_run_cell', _Result(code))

def _post_cell():
    """After each cell: the events, then the figures (inline backend)."""
    if _SHELL:
        sh = _SHELL[0]
        sh.events.trigger('post_execute')
        sh.events.trigger('post_run_cell', _Result(None))
    if 'matplotlib.pyplot' in sys.modules:
        _flush_figures()

def _flush_figures():
    # IPython's inline backend closes every figure at the end of a cell.
    sys.modules['matplotlib.pyplot'].close('all')

def _display(*objs, **kw):
    for o in objs:
        print(repr(o))

def _on_timeout(signum, frame):
    raise TimeoutError('cell timed out')

def _cell_code(src, tm, use_ipython):
    """The text that runs for one cell, and a note: IPython's transformations
    for what is not Python (with IPython, else no-ops), automagic when the
    cell is one line."""
    code, note = src, None
    try:
        compile(src, '<cell>', 'exec', ast.PyCF_ONLY_AST | _TLA, True)
    except SyntaxError:
        bad = _ipy_lines(src)
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

def _prepare(sources, use_ipython, seed, sig):
    main = types.ModuleType('__main__')
    ns = main.__dict__
    ns['__builtins__'] = builtins
    sys.modules['__main__'] = main
    notes = []
    tm = _load_ipython() if use_ipython and _needs_ipython(sources) else None
    shell = _Shell(ns, notes)
    shell._tm = tm
    _SHELL[:] = [shell]
    ns['get_ipython'] = lambda: shell
    ns['display'] = _display
    cells = []
    for n, src in enumerate(sources, 1):
        name = '<cell %d>' % n
        code, note = src, None
        try:
            code, note = _cell_code(src, tm, use_ipython)
            body, expr = _split(code, name)
            cells.append((body, expr, note, None, code))
        except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
            tb = ''.join(traceback.format_exception_only(type(e), e))
            cells.append((None, None, note, (type(e).__name__, str(e), tb), code))
    _restore()
    random.seed(seed)
    if 'numpy' in sys.modules:
        sys.modules['numpy'].random.seed(seed & 0xffffffff)
    signal.signal(sig, _on_timeout)
    return ns, cells, notes
