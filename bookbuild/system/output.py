"""The output folder: refuse unsafe ones, stage a build, swap it in atomically, own only our files.

A manifest in the output folder lists the files bookbuild wrote there and for which format, so a
later build removes only those (an author's `CNAME` or `.nojekyll` stays) and rendering one
format keeps the others. At every instant the folder holds the previous complete output or the
new one: the staged folder and the old one are exchanged in one `renameat2(RENAME_EXCHANGE)`.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from bookbuild.system.atomic import alive, fault_point, write_text
from bookbuild.system.errors import Diagnostic, UsageError, display_path

MANIFEST = ".bookbuild-manifest.json"
_STAGING = ".staging-"
_LOCK = ".lock"
def check_safe(out: Path, root: Path | None, chapters: list[Path], config_file: Path | None,
               adopt: bool = False) -> None:
    """Refuse an output folder whose replacement could destroy the author's sources; `adopt`:
    the author allows a non-empty folder bookbuild did not make (`--adopt-output`)."""
    out = out.resolve()
    where = str(config_file) if config_file else ""

    def refuse(reason: str, hint: str = "choose a folder of its own for the output, e.g. "
               "`--output-dir _book`") -> None:
        raise UsageError(diagnostics=[Diagnostic(
            where, 0, 0, "OUT001", f"refusing output folder {out}: {reason}", hint)])

    if root is not None and (out == root or out in root.parents):
        refuse("it is the project folder or lies above it")
    if out == Path(out.anchor) or out == Path.home():
        refuse("it is the file system root or your home folder")
    if ".git" in out.parts:
        refuse("it is (or lies in) a git repository's own .git folder")
    if out.is_dir() and os.path.ismount(out):
        refuse("it is a mount point, and bookbuild replaces the output folder as a whole",
               f"render into a folder inside it, e.g. `--output-dir {out / '_book'}`")
    # Staging would rename the file aside and put a folder in its place.
    if out.exists() and not out.is_dir():
        refuse("it is a file, not a folder")
    existing = next(p for p in out.parents if p.exists())
    if not existing.is_dir():
        refuse(f"{existing} is a file, not a folder")
    for marker in ("_quarto.yml", ".git", "pyproject.toml"):
        if (out / marker).exists():
            refuse(f"it contains {marker}")
    for chapter in chapters:
        if out in chapter.resolve().parents:
            refuse(f"it contains the chapter {chapter.name}")
    if not adopt and _foreign(out):
        refuse("it holds files and bookbuild did not make it (it has no " + MANIFEST + ")",
               "render into a new folder, or pass --adopt-output to write into this one (its "
               "files are kept; bookbuild then removes only what it writes)")


def _foreign(out: Path) -> bool:
    """Whether `out` is a non-empty folder that no build of ours wrote (no manifest)."""
    try:
        return out.is_dir() and not (out / MANIFEST).is_file() and any(out.iterdir())
    except OSError:
        return False


def read_manifest(folder: Path) -> dict[str, list[str]]:
    """Files bookbuild wrote in `folder`, by format; empty when unknown or unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {str(k): [str(p) for p in v if _inside(str(p))] for k, v in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _inside(rel: str) -> bool:
    """Whether a manifest entry names a path in the folder: a damaged one names no other."""
    parts = PurePosixPath(rel).parts
    return bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts \
        and "\0" not in rel


def _files(folder: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            out[p.relative_to(folder).as_posix()] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


class Stage:
    """A staging folder plus the bookkeeping of which format wrote which file."""

    def __init__(self, path: Path, owned: dict[str, list[str]]) -> None:
        self.path = path
        self.owned = owned
        self._before = _files(path)

    def wrote(self, fmt: str) -> None:
        """Attribute every file created or changed since the last call to format `fmt`."""
        now = _files(self.path)
        changed = {p for p, sig in now.items() if self._before.get(p) != sig and p != MANIFEST}
        self.owned[fmt] = sorted(set(self.owned.get(fmt, [])) | changed)
        self._before = now


def _remove_stale_staging(out: Path) -> None:
    """Staging folders left by a killed build (their process is gone) are ours to remove."""
    for p in out.parent.glob(f".{out.name}{_STAGING}*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


@contextmanager
def staged(out: Path, root: Path | None = None, formats: list[str] = (), whole_book: bool = False,
           chapters: list[Path] = (), config_file: Path | None = None,
           adopt: bool = False, replaces: Sequence[str] = ()) -> Iterator[Stage]:
    """Yield a Stage to write into; on success it replaces `out` atomically, on error it vanishes.

    Call `stage.wrote(fmt)` after writing each format, so the manifest knows whose files are whose.

    The stage starts empty, so the build never writes through an author's symbolic link. Before
    the swap, what `out` holds then and the build did not write is copied in (files added during
    the build too). For a whole-book render the files the manifest says `formats` wrote last time
    stay behind (no stale pages) unless they changed since; other formats' files and files
    bookbuild did not write are kept. The previous files of the formats in `replaces` go in any
    build (an index of every page that each build writes whole).
    """
    out = out.resolve()
    check_safe(out, root, chapters, config_file, adopt)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        _remove_stale_staging(out)
        tmp = out.parent / f".{out.name}{_STAGING}{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            owned = read_manifest(out)
            stale = {rel: _signature(out / rel)
                     for fmt in dict.fromkeys([*(formats if whole_book else []), *replaces])
                     for rel in owned.pop(fmt, [])}
            tmp.mkdir()
            _same_ownership(out, tmp)  # the swapped-in folder keeps the output's mode and owner
            fault_point("staged")
            stage = Stage(tmp, owned)
            yield stage
            carried: dict[str, tuple[int, int, int] | None] = {}
            replaced = _carry(out, tmp, stale, carried)
            write_text(tmp / MANIFEST, json.dumps({"files": stage.owned}, indent=1, sort_keys=True))
            fault_point("manifest")
            old = _swap(tmp, out)
            if old is not None:
                _rescue(old, out, stale, carried)
                shutil.rmtree(old, ignore_errors=True)
            for rel in replaced:
                print(f"note: {display_path(out / rel)} was a symbolic link; bookbuild's output "
                      "took its place (what it pointed to is untouched)", file=sys.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold the lock of `out` (flock on a file beside it) for a build: a second build of the same
    folder waits, so neither swaps in an output made without the other's files."""
    path = out.parent / f".{out.name}{_LOCK}"
    waited = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    print(f"bookbuild: waiting for another build of {display_path(out)} to finish",
                          file=sys.stderr, flush=True)
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the build we waited for removed this lock file: lock the current one
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while holding it, so no lock file stays behind
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open lock file `fd` is still the one at `path`."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _same_ownership(src: Path, dst: Path) -> None:
    """Give `dst` the permission bits, owner and group of `src` (when it exists): a folder or file
    of the author's that a build replaces by its copy must not change hands or modes."""
    try:
        st = src.lstat()
    except OSError:
        return
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
        except PermissionError:
            pass  # only root gives a file away: an ordinary user's copy is theirs anyway


def _signature(path: Path) -> tuple[int, int, int] | None:
    """Which version of a regular file `path` is; None for anything else (a link included)."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _carry(old: Path, new: Path, stale: dict[str, tuple[int, int, int] | None],
           carried: dict[str, tuple[int, int, int] | None]) -> list[str]:
    """Copy into `new` what `old` holds and the build did not write, never following a link, and
    note in `carried` what was copied; return the links of `old` the build's own output replaced."""
    replaced: list[str] = []
    for src, rel, signature in _kept_entries(old, stale):
        if src.is_symlink() and os.path.lexists(new / rel):
            replaced.append(rel)  # the link goes; what it points to is not touched
        elif _carry_one(src, new / rel, old, rel):
            carried[rel] = signature
    return replaced


def _kept_entries(old: Path, stale: dict[str, tuple[int, int, int] | None]
                  ) -> Iterator[tuple[Path, str, tuple[int, int, int] | None]]:
    """(path, relative name, signature) of each entry of `old` that is neither the manifest nor
    a page this format wrote last time; never inside a linked folder, nor one moved away."""
    for folder, dirs, files in os.walk(old):  # does not descend into linked folders
        here = Path(folder)
        for name in [*files, *dirs]:
            src = here / name
            rel = src.relative_to(old).as_posix()
            signature = _signature(src)
            if rel == MANIFEST or (signature is not None and stale.get(rel) == signature):
                continue
            if name in dirs and _only_stale(src, old, stale):
                continue  # it goes with its files (a search index the book no longer has)
            yield src, rel, signature
        dirs[:] = [d for d in dirs if (here / d).is_dir()  # not those just moved (_rescue)
                   and not _only_stale(here / d, old, stale)]


def _only_stale(folder: Path, old: Path, stale: dict[str, tuple[int, int, int] | None]) -> bool:
    """Whether `folder` holds files this format wrote last time and nothing else (no file of
    the author's, no link, at any depth)."""
    if folder.is_symlink() or not stale:
        return False
    held = False
    for here, dirs, files in os.walk(folder):
        if any((Path(here) / d).is_symlink() for d in dirs):
            return False
        for name in files:
            src = Path(here) / name
            signature = _signature(src)
            if signature is None or stale.get(src.relative_to(old).as_posix()) != signature:
                return False
            held = True
    return held


def _rescue(old: Path, out: Path, stale: dict[str, tuple[int, int, int] | None],
            carried: dict[str, tuple[int, int, int] | None]) -> None:
    """After the swap, move into `out` what the author wrote in the old output after it was
    copied (a new file or folder, or a copied file changed since), before `old` is removed."""
    for src, rel, signature in _kept_entries(old, stale):
        dst = out / rel
        new = not os.path.lexists(dst)
        if (new or (rel in carried and carried[rel] != signature)) \
                and dst.parent.is_dir() and not dst.parent.is_symlink():
            os.replace(src, dst)


def _carry_one(src: Path, dst: Path, out: Path, rel: str) -> bool:
    """Copy one entry (a link as a link, a folder as a folder); False when the build's own
    version is there."""
    blocked = not dst.parent.is_dir() or dst.parent.is_symlink()  # the build wrote a file there
    if src.is_dir() and not src.is_symlink():
        if blocked or os.path.lexists(dst):
            return False  # what it holds is carried, or refused when blocked, entry by entry
        dst.mkdir()
        shutil.copystat(src, dst)
        _same_ownership(src, dst)
        return True
    if blocked or (os.path.lexists(dst) and (dst.is_symlink() or not dst.is_file())):
        raise UsageError(diagnostics=[Diagnostic(
            "", 0, 0, "OUT001", f"refusing output folder {out}: this build writes where "
            f"{rel} is, and bookbuild did not write {rel}",
            f"move {rel} out of the output folder, then render again")])
    if os.path.lexists(dst):
        return False  # the build wrote this very file: its version wins
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)
    _same_ownership(src, dst)
    return True


def _swap(new: Path, out: Path) -> Path | None:
    """Make `new` the output, exchanging the two folders in one step; return where the old
    output now is (None when there was none), for the caller to remove."""
    if out.exists() and _exchange(new, out):
        fault_point("exchanged")
        return new
    if out.exists():
        # No atomic exchange here (not Linux, or a file system without it): keep the window tiny.
        # A staging name: should this build be killed, the next one removes the old output.
        old = out.parent / f".{out.name}{_STAGING}old-{os.getpid()}"
        out.rename(old)
        fault_point("moved old")
        new.rename(out)
        fault_point("swapped")
        return old
    new.rename(out)
    fault_point("swapped")
    return None


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths atomically; False where unsupported."""
    try:
        # the interpreter's own symbols, libc's among them: ctypes.util.find_library would run
        # `ldconfig -p` in a subprocess for each build to find the same library
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


# --- a document's outputs, written beside it (Quarto's `doc.html` and `doc_files/`) -----------
def document_outputs(stem: str, formats: list[str]) -> list[str]:
    """The names a document's render writes in its folder, for `formats`."""
    names = {"html": [f"{stem}.html", f"{stem}_files"], "pdf": [f"{stem}.pdf"],
             "md": [f"{stem}.md", f"{stem}_files"]}
    return list(dict.fromkeys(n for fmt in formats for n in names.get(fmt, [])))


def check_placeable(folder: Path, names: list[str]) -> None:
    """Refuse (OUT001) to write `names` in `folder` where one is a file or folder bookbuild did
    not write there (the manifest names what it did): an author's own `doc.html` stays."""
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise UsageError(diagnostics=[Diagnostic(
            "", 0, 0, "OUT001", f"refusing output folder {folder}: it is a file, not a folder",
            "choose a folder for the output with --output-dir")])
    owned = {PurePosixPath(rel).parts[0] for files in read_manifest(folder).values()
             for rel in files}
    for name in names:
        path = folder / name
        if os.path.lexists(path) and name not in owned:
            raise UsageError(diagnostics=[Diagnostic(
                "", 0, 0, "OUT001", f"refusing to write {display_path(path)}: bookbuild did not "
                "write it (it is not in " + MANIFEST + ")",
                f"move or rename {name}, or render into another folder with --output-dir")])


@contextmanager
def placed(folder: Path, stem: str) -> Iterator[Stage]:
    """Yield a Stage for one document's outputs; on success each one it holds replaces its
    namesake in `folder` atomically (a file by rename, a folder by exchange), on error nothing
    in `folder` changes. The manifest names them before they land, so a build killed midway
    leaves only files a later build may replace."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    # one lock for the folder: its manifest is shared by every document written there
    with _locked(folder / "bookbuild-outputs"):
        _remove_stale_staging(folder / stem)
        for half in folder.glob(f".{MANIFEST}.*.tmp"):  # a killed build's; none is live: locked
            half.unlink(missing_ok=True)
        tmp = folder / f".{stem}{_STAGING}{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir()
            fault_point("staged")
            stage = Stage(tmp, {})
            yield stage
            # identical files are left as they are: a stylesheet or an image beside its page is
            # its source (a document rendered beside itself shows img/x.png from where it is)
            _drop_sources(tmp, folder)
            names = sorted(p.name for p in tmp.iterdir())
            check_placeable(folder, names)
            owned = read_manifest(folder)
            for fmt, files in stage.owned.items():
                owned[fmt] = sorted(set(owned.get(fmt, [])) | {f for f in files
                                                                if PurePosixPath(f).parts[0] in names})
            write_text(folder / MANIFEST, json.dumps({"files": owned}, indent=1, sort_keys=True))
            fault_point("manifest")
            for name in names:
                _place(tmp / name, folder / name)
                fault_point("placed")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _drop_sources(stage: Path, folder: Path) -> None:
    """Remove from `stage` the files `folder` already holds with the same bytes in a place
    bookbuild did not write, and the folders that leaves empty."""
    owned = {PurePosixPath(rel).parts[0] for files in read_manifest(folder).values()
             for rel in files}
    for top in list(stage.iterdir()):
        if top.name in owned:
            continue  # ours: placed as usual
        if top.is_file() and not top.is_symlink():
            if _same_bytes(top, folder / top.name):
                top.unlink()
            continue
        for f in sorted(top.rglob("*"), reverse=True):  # children before their folders
            there = folder / f.relative_to(stage)
            if f.is_file() and not f.is_symlink() and _same_bytes(f, there):
                f.unlink()
            elif f.is_dir() and not f.is_symlink() and not any(f.iterdir()):
                f.rmdir()
        if top.is_dir() and not top.is_symlink() and not any(top.iterdir()):
            top.rmdir()


def _same_bytes(new: Path, old: Path) -> bool:
    """Whether `new` is a file with exactly the bytes of the regular file `old`."""
    try:
        return (new.is_file() and old.is_file() and not old.is_symlink()
                and new.stat().st_size == old.stat().st_size
                and new.read_bytes() == old.read_bytes())
    except OSError:
        return False


def _place(src: Path, dst: Path) -> None:
    """Put the staged `src` where `dst` is, in one step; a folder keeps what the old one held
    and this build did not write (the HTML's figures when only the markdown is rendered)."""
    if src.is_dir() and dst.is_dir() and not dst.is_symlink():
        for old in dst.rglob("*"):
            rel = old.relative_to(dst)
            new = src / rel
            if old.is_dir() and not old.is_symlink():
                new.mkdir(exist_ok=True)
            elif not os.path.lexists(new) and new.parent.is_dir():
                shutil.copy2(old, new, follow_symlinks=False)
        if _exchange(src, dst):
            shutil.rmtree(src, ignore_errors=True)
            return
        aside = dst.parent / f".{dst.name}{_STAGING}old-{os.getpid()}"
        dst.rename(aside)
        src.rename(dst)
        shutil.rmtree(aside, ignore_errors=True)
        return
    if src.is_dir() and os.path.lexists(dst):
        # a link (or file) of ours where the folder goes: the link goes, not what it points to
        dst.unlink()
    os.replace(src, dst)
