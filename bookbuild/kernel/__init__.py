"""Code that runs inside the chapter's Jupyter kernel; kept tiny because every kernel imports it.

`install()` records which local files the cells read (or tried to) and which folders they
listed; `inline()` turns a value into the text that replaces an inline reference; `dependencies()` reports the local files the cells used.
Python's reads come from an audit hook; reads by native code, by programs a cell starts and by
its workers come from the recorder preloaded into the kernel (reads.py, readrec.c); `stamps()`
says how each file was when first opened, so a file saved mid-run is never cached as read.

In a kernel forked from the warm template (bookbuild.execution.warm), modules the template imported are
already in `sys.modules` and their files were read before the chapter began, so the template
records them (`start_preload`/`end_preload`) and the chapter reports them when it imports any
of them: the cache must see them exactly as if the chapter had imported them itself.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time

# Loaded here, before `constants()` below is defined: the first import of a submodule binds its
# name on this package, so a later first import (the warm template's) would replace the
# function `__bookbuild__.constants` with the module.
from bookbuild.kernel import constants as _constants
from bookbuild.kernel import reads as _reads
from bookbuild.kernel.installed import metadata_files
from bookbuild.kernel.paths import module_path

_opened: set[str] = set()
_preload_reads: set[str] = set()  # files read while the warm template imported the book's packages
_preloaded: frozenset[str] = frozenset()  # modules the template imported
_requested: set[str] = set()  # module names the chapter's code asked to import
_sink: set[str] | None = None  # where the audit hook records reads (None: not recording)
# Each read file's stamp when first seen, and the files the chapter wrote (a file it wrote and
# read back changed by its own hand): a file that changes while the chapter runs is caught.
_stamps: dict[str, list[int]] = {}
_written: set[str] = set()
# Python itself, installed packages and bookbuild's own code are not the book's inputs (the
# cache key carries their versions instead).
_ENGINE = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep
_EXCLUDED = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix,
                                                          sys.exec_prefix, sys.base_exec_prefix)}
                  | {_ENGINE})


def _local(path: str) -> bool:
    """Not Python's, an installed package's or bookbuild's own (judged where a link leads)."""
    return _local_real(os.path.realpath(path))


def _local_real(real: str) -> bool:
    """`_local` for a path already resolved (`module_path`): no second realpath per module."""
    return not real.startswith(_EXCLUDED)


def _input(path: str) -> bool:
    """A path the cache can watch: a file, a folder listed, or one absent (`missing`)."""
    return not path.startswith(("/proc/", "/sys/", "/dev/")) and _local(path) and (
        os.path.isfile(path) or os.path.isdir(path) or not os.path.lexists(path))


def _record(path: object) -> None:
    # As the cell named it (made absolute), not where a symlink leads: repointing the link
    # must change the dependency.
    if _sink is not None and isinstance(path, (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(path))
        if path not in _sink and _sink is _opened:
            _stamps[path] = _stamp(path)
        _sink.add(path)


def _stamp(path: str) -> list[int]:
    """[mtime_ns, size, inode, ctime_ns, now_ns] of a regular file (taken before the open: a
    change after it shows), -1s for an absent one (it must still be absent), else []."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return [-1, -1, -1, -1, time.time_ns()]
    except (OSError, ValueError):
        return []
    if not stat.S_ISREG(st.st_mode):
        return []  # a folder listed: the chapter may add to it itself
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns, time.time_ns()]


# The import system and importlib.metadata (which lists every sys.path folder for versions).
_IMPORTLIB = ("<frozen importlib", os.path.dirname(os.__file__) + os.sep + "importlib" + os.sep)
_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "sqlite3.connect"})


def _by_importlib() -> bool:
    # sys._getframe is itself audited: called only for _EVENTS, so the hook never recurses.
    try:
        return sys._getframe(2).f_code.co_filename.startswith(_IMPORTLIB)
    except ValueError:  # raised from C with no Python caller
        return False


def _audit(event: str, args: tuple) -> None:
    # Only reads count as inputs: a file a cell writes must not invalidate its own cache entry.
    # A file opened for reading counts even when absent (it is `missing` until it exists).
    if _sink is None or event not in _EVENTS or _by_importlib():
        return  # the import system's own reads (.pyc probes, sys.path listings): modules count
    if event == "open" and isinstance(args[0], (str, bytes)):
        mode, flags = args[1], args[2]
        reading = (mode is not None and not set(mode) & set("wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR) == 0)
        if reading:
            _record(args[0])
        elif _sink is _opened:
            _written.add(os.path.abspath(os.fsdecode(args[0])))
    elif event in ("os.listdir", "os.scandir"):
        # A folder listed (listdir, scandir, glob, Path.iterdir/glob, os.walk): its entry names
        # are an input.
        _record("." if args[0] is None else args[0])
    elif event == "sqlite3.connect" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        path = path[5:].split("?")[0] if path.startswith("file:") else path  # URI form
        if path and path != ":memory:":
            _record(path)


def _hook() -> None:
    # Audit hooks cannot be removed: one per process, switched between sinks.
    if not getattr(sys, "_bookbuild_audit", False):
        sys.addaudithook(_audit)
        sys._bookbuild_audit = True


def start_preload() -> None:
    """In the warm template: record what importing the book's packages reads."""
    global _sink
    _hook()
    _sink = _preload_reads
    _reads.start()  # a package may read its data with native code as it is imported


def end_preload() -> None:
    """In the warm template: remember the imported modules; stop recording until a chapter."""
    global _sink, _preloaded
    _preloaded = frozenset(sys.modules)
    _sink = None
    _preload_reads.update(_native_reads())
    _reads.stop()
    for m in list(sys.modules.values()):  # resolved once here, inherited by every fork
        if isinstance(getattr(m, "__file__", None), str):
            module_path(m.__file__)
    for m in _constants.local_modules(_constants.project_root(), _EXCLUDED).values():
        _constants.module_source(module_path(m.__file__))  # parsed once for every snapshot
    metadata_files({n.split(".")[0] for n in sys.modules})  # installed packages, listed once


def preload_reads() -> set[str]:
    """The files read while the warm template imported the book's packages."""
    return set(_preload_reads)


def install() -> None:
    """Start recording file reads (and, in a forked kernel, imports of preloaded modules)."""
    global _sink
    _opened.clear()
    _stamps.clear()
    _written.clear()
    _last.clear()
    _hook()
    _sink = _opened
    _unrecorded.clear()
    if not _reads.start():  # files native code opens, here and in programs the cells start
        _unrecorded.extend(p for p in os.environ.get("LD_PRELOAD", "").split()
                           if p.endswith("libbookbuild_reads.so"))
    if _preloaded:
        _watch_imports()


def _watch_imports() -> None:
    """Note every module name the chapter imports: a preloaded one is found in sys.modules
    without any file being read, so nothing else would tell us the chapter used it."""
    import builtins
    import importlib

    plain_import, plain_import_module = builtins.__import__, importlib.import_module

    def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
        __tracebackhide__ = True  # IPython leaves this frame out of the chapter's tracebacks
        module = plain_import(name, globals, locals, fromlist, level)
        _requested.add(getattr(module, "__name__", name) if level else name)
        return module

    def recording_import_module(name, package=None):
        __tracebackhide__ = True
        module = plain_import_module(name, package)
        _requested.add(module.__name__)
        return module

    builtins.__import__ = recording_import
    importlib.import_module = recording_import_module


def inline(value: object) -> str:
    """The one formatting rule for inline values, the same for every output format."""
    markdown = getattr(value, "_repr_markdown_", None)
    if callable(markdown):
        text = markdown()
        if isinstance(text, tuple):  # (data, metadata) form
            text = text[0]
        return str(text)
    if isinstance(value, str):
        return value
    if hasattr(value, "magnitude") and hasattr(value, "units"):
        return format(value, "~P")  # pint Quantity: abbreviated units, pretty exponents
    return str(value)


def _used_preloaded(local: dict[str, str]) -> bool:
    """Whether the chapter imported any local module the warm template had preloaded.

    Any such import (by the chapter or by code it imported) counts as using all of them and the
    files they read: they may import each other, and the cache then prunes what the chapter's
    names cannot reach.
    """
    preloaded = {name for name in local if name in _preloaded}
    return any(n == p or n.startswith(p + ".") or p.startswith(n + ".")
               for n in _requested for p in preloaded)


def _chapter_modules() -> dict[str, str]:
    """Local modules this chapter uses: in a forked kernel, preloaded ones only if it imported
    any of them (then all, as they may import each other)."""
    modules = {name: module_path(m.__file__) for name, m in list(sys.modules.items())
               if isinstance(getattr(m, "__file__", None), str)}
    local = {name: f for name, f in modules.items() if _local_real(f) and os.path.isfile(f)}
    if _preloaded and not _used_preloaded(local):
        local = {name: f for name, f in local.items() if name not in _preloaded}
    return local


def dependencies() -> str:
    """JSON list of the local files this kernel imported and of every file its cells read,
    folder they listed or absent file they tried to open, wherever it lies (a CSV outside the
    project counts), except Python's and installed packages' own files and pseudo-files (/proc,
    /dev): a stale number is worse than a re-execution. Files that native code or a program a
    cell started opened count too (kernel/readrec.c)."""
    return json.dumps(sorted(_dependencies()))


def _dependencies() -> set[str]:
    local = _chapter_modules()
    opened = set(_opened)
    if _preloaded and _used_preloaded(local):
        opened |= _preload_reads
    read = {f for f in opened if _input(f)}
    native = _native_reads() - read
    _last.clear()
    _last.update(set(local.values()) | read | native | metadata_files(_top_levels())
                 | set(_unrecorded))
    return set(_last)


def _top_levels() -> set[str]:
    """Top-level names of the modules the chapter used: in a forked kernel, those it asked for
    and those it imported anew (the template's others served other chapters)."""
    names = set(_requested) | {n for n in list(sys.modules) if n not in _preloaded}
    return {n.split(".")[0] for n in names}


_last: set[str] = set()  # the dependencies last reported: `stamps()` follows in the same request
# The recorder the build preloaded when it did not load (its file vanished before the kernel
# started): a dependency, so the result, lacking native reads, is not reused once it is back.
_unrecorded: list[str] = []


def stamps() -> str:
    """JSON {path: [mtime_ns, size, inode, ctime_ns, opened_ns]} of each dependency read as a
    file, as it was when first opened (the earliest of the audit hook's and the recorder's),
    except files the chapter itself wrote: the cache stores a result only under the inputs it
    was computed from."""
    native, written, _ = _reads.read()
    written |= _written
    out = {}
    for path in (_last or _dependencies()) - written:
        found = [s for s in (native.get(path), _stamps.get(path)) if s]
        if found:
            out[path] = min(found, key=lambda s: s[4])
    return json.dumps(out)


# Not the book's inputs though native code opens them: system libraries, locales, time zones
# and fonts, compiled bytecode (its source is the input), and the kernel's own runtime files.
_SYSTEM = ("/etc/", "/usr/lib/", "/usr/lib64/", "/lib/", "/lib64/", "/usr/share/", "/run/",
           "/var/cache/", "/var/lib/")


def _native_reads() -> set[str]:
    """The files native code read and the folders it listed that the cache should watch. The
    import system lists sys.path folders and packages' folders as it looks for modules: those
    listings are the modules' business, not inputs (as the audit hook leaves importlib out)."""
    files, _, listed = _reads.read()
    skip = _SYSTEM + _runtime_dirs()
    found = {f for f in files if _native_input(f, skip)}
    if listed:
        imports = _import_dirs()
        found |= {d for d in listed if d not in imports and _native_input(d, skip)}
    return found


def _import_dirs() -> set[str]:
    """Folders the import system searches: sys.path entries and every package's __path__."""
    dirs = [os.getcwd() if not p else p for p in sys.path if isinstance(p, str)]
    for m in list(sys.modules.values()):
        path = getattr(m, "__path__", None)
        try:
            dirs += [p for p in path or () if isinstance(p, str)]
        except TypeError:  # a namespace path that cannot be listed
            continue
    return {os.path.abspath(d) for d in dirs}


def _native_input(path: str, skip: tuple[str, ...]) -> bool:
    """A file native code opened that the cache should watch: `_input`, less what lies under
    `skip` and compiled bytecode."""
    if path.startswith(skip) or path.endswith((".pyc", ".pyo")) or (
            os.sep + "__pycache__" + os.sep) in path:
        return False
    return _input(path)


def _runtime_dirs() -> tuple[str, ...]:
    """Folders where Jupyter, IPython, matplotlib and fontconfig keep their own state."""
    home = os.path.expanduser("~")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    dirs = [os.path.join(cache, "fontconfig"), os.path.join(cache, "matplotlib"),
            os.path.join(cache, "bookbuild"), os.path.join(home, ".ipython"),
            os.path.join(home, ".jupyter"), os.path.join(home, ".local", "share", "jupyter")]
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        if os.environ.get(var):
            dirs.append(os.environ[var])
    connection = next((a for a in sys.argv if a.endswith(".json")), None)  # plain kernels' -f
    if connection:
        dirs.append(os.path.dirname(os.path.abspath(connection)))
    return tuple({p + os.sep for d in dirs for p in (os.path.abspath(d), os.path.realpath(d))})


def constants() -> str:
    """JSON of every constant of every project-local module the cells imported (value text,
    defining file:line, and source/year/kind where the module declares `__sources__`); `{}`
    when there are none. The numbers lock snapshots them from here."""
    return json.dumps(_constants.snapshot(_EXCLUDED, only=set(_chapter_modules())), default=str)
