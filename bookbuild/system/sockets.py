"""Private folders for Unix sockets (a kernel's IPC channels, the warm template's socket).

A Unix socket's path holds at most 107 bytes, so a long TMPDIR (a deep CI or pytest scratch
folder) cannot hold them; their folder then goes to /tmp, which every Unix system has.
"""

from __future__ import annotations

import os
import tempfile

# The longest name put inside the folder ("kernel-5", "template") and the separator, kept with
# room to spare below the 107-byte limit of sockaddr_un.sun_path.
LONGEST_FOLDER = 107 - len("/template") - 8


def socket_dir(prefix: str) -> str:
    """A new private folder (mode 0700) for Unix sockets, under TMPDIR when its path is short
    enough, else under /tmp; the caller removes it."""
    folder = tempfile.mkdtemp(prefix=prefix)
    if len(os.fsencode(folder)) <= LONGEST_FOLDER:
        return folder
    os.rmdir(folder)
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")
