"""The read recorder itself (bookbuild/kernel/readrec.c), without a kernel: a Python process
started with it preloaded and a record named, as a program a cell starts is, opens files through
each libc entry point by ctypes; the record must hold each file read once, with its stamp, each
file written as written, each folder listed, and nothing under /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bookbuild.execution.native import library

PROGRAM = textwrap.dedent('''
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fopen.restype = libc.fopen64.restype = libc.freopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = libc.fopen64.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.freopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.opendir.restype = ctypes.c_void_p
    libc.closedir.argtypes = [ctypes.c_void_p]
    d = sys.argv[1].encode()
    for name in ("open", "open64"):
        os.close(getattr(libc, name)(d + b"/" + name.encode() + b".txt", os.O_RDONLY))
    folder = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    for name in ("openat", "openat64"):
        os.close(getattr(libc, name)(folder, name.encode() + b".txt", os.O_RDONLY))
    for name in ("fopen", "fopen64"):
        libc.fclose(getattr(libc, name)(d + b"/" + name.encode() + b".txt", b"r"))
    f = libc.fopen(d + b"/open.txt", b"r")
    libc.fclose(libc.freopen(d + b"/freopen.txt", b"r", f))
    os.chdir(sys.argv[1])
    for _ in range(100):  # relative, and read again: one line
        os.close(libc.open(b"relative.txt", os.O_RDONLY))
    os.close(os.open("written.txt", os.O_WRONLY | os.O_CREAT, 0o644))
    libc.closedir(libc.opendir(b"listed"))
    os.close(os.open("/proc/self/status", os.O_RDONLY))
    assert libc.open(b"absent.txt", os.O_RDONLY) == -1
    import subprocess  # a program given an environment of the cell's own is recorded too
    subprocess.run(["cat", "by-cat.txt"], env={"PATH": os.environ["PATH"]}, check=True,
                   stdout=subprocess.DEVNULL)
''')
READ = ("open", "open64", "openat", "openat64", "fopen", "fopen64", "freopen", "relative",
        "by-cat")


@pytest.fixture(scope="module")
def recorder() -> str:
    lib = library()
    if lib is None:
        pytest.fail("no C compiler here: the recorder cannot be built; install one "
                    "(apt-get install gcc)", pytrace=False)
    return lib


def test_every_libc_entry_point_records_what_it_opened(recorder: str, tmp_path: Path) -> None:
    for name in READ:
        (tmp_path / f"{name}.txt").write_text(name)
    (tmp_path / "listed").mkdir()
    record = tmp_path / "record"
    record.touch()
    env = dict(os.environ, LD_PRELOAD=recorder, BOOKBUILD_READS=str(record))
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = record.read_text().splitlines()
    mine = [line for line in lines if str(tmp_path) in line]
    reads = {line.split("\t")[1]: line.split("\t")[0].split()[1:] for line in mine
             if line.startswith("R ")}
    for name in READ:
        stamp = reads[str(tmp_path / f"{name}.txt")]
        st = os.stat(tmp_path / f"{name}.txt")
        assert [int(x) for x in stamp[:4]] == [st.st_mtime_ns, st.st_size, st.st_ino,
                                               st.st_ctime_ns]
    assert len([line for line in mine if line.endswith("/relative.txt")]) == 1
    assert f"W\t{tmp_path}/written.txt" in mine
    assert f"D\t{tmp_path}/listed" in mine
    assert not [line for line in lines if "/proc/" in line or "absent" in line]


def test_a_program_started_without_a_record_runs_as_before(recorder: str, tmp_path: Path) -> None:
    env = dict(os.environ, LD_PRELOAD=recorder)
    env.pop("BOOKBUILD_READS", None)
    done = subprocess.run(["cat", "/etc/hostname"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == ""


def test_a_kernel_whose_recorder_did_not_load_depends_on_it(tmp_path: Path) -> None:
    """The library vanished between the build's check and the kernel's start: the result lacks
    what native code read, so it must not be reused once the recorder is back."""
    missing = tmp_path / "gone" / "libbookbuild_reads.so"
    env = dict(os.environ, LD_PRELOAD=str(missing))
    done = subprocess.run([sys.executable, "-c", "import bookbuild.kernel as k\nk.install()\n"
                           "print(k.dependencies())"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert str(missing) in done.stdout
