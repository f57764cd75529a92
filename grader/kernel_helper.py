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
# checks the shape of every value it reads back.
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
    """(body, expr): the texts of a cell's statements and of its trailing
    expression (None when there is none), to be compiled as 'exec' and
    'eval'. expr keeps its line numbers (blank lines before it)."""
    tree = compile(code, name, 'exec', ast.PyCF_ONLY_AST, True)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr) or code.rstrip().endswith(';'):
        return code, None
    last = tree.body[-1]
    lines = code.split('\n')
    line = lines[last.lineno - 1]
    # col_offset counts UTF-8 bytes of its line
    start = sum(len(l) + 1 for l in lines[:last.lineno - 1]) + \
        len(line.encode('utf-8', 'surrogatepass')[:last.col_offset].decode('utf-8', 'surrogatepass'))
    return code[:start], '\n' * (last.lineno - 1) + code[start:]

def _transform(src, n, use_ipython):
    """Cell n (1-based), in the zygote: (code, note, error, body, expr) where
    code is the text run (IPython syntax transformed), error None or (ename,
    evalue, traceback) of a syntax error, body/expr as _split()'s."""
    name = '<cell %d>' % n
    # the parser's line ends, so that offsets into code are the parser's
    code, note = src.replace('\r\n', '\n').replace('\r', '\n'), None
    try:
        try:
            body, expr = _split(code, name)
        except SyntaxError:
            bad = _ipy_lines(code)
            if not bad:
                raise
            tm = _load_ipython() if use_ipython else None
            if tm:
                code = tm.transform_cell(code)
            else:
                code, note = _fallback(code, bad)
            body, expr = _split(code, name)
        return code, note, None, body, expr
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        tb = ''.join(traceback.format_exception_only(type(e), e))
        return code, note, (type(e).__name__, str(e), tb), '', None

class _Shell:
    """The few IPython services transformed cells call (get_ipython())."""
    def __init__(self, ns, notes):
        self.user_ns = ns
        self._notes = notes
    def _run(self, code):
        body, expr = _split(code, '<magic>')
        exec(compile(body, '<magic>', 'exec', 0, True), self.user_ns)
        return eval(compile(expr, '<magic>', 'eval', 0, True), self.user_ns) if expr else None
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

def _prepare(use_ipython, seed, sig):
    """The child's fresh __main__ and the notes list IPython services append to."""
    main = types.ModuleType('__main__')
    ns = main.__dict__
    ns['__builtins__'] = builtins
    sys.modules['__main__'] = main
    notes = []
    if use_ipython:
        shell = _Shell(ns, notes)
        ns['get_ipython'] = lambda: shell
    ns['display'] = _display
    random.seed(seed)
    if 'numpy' in sys.modules:
        sys.modules['numpy'].random.seed(seed & 0xffffffff)
    signal.signal(sig, _on_timeout)
    return ns, notes
