"""Warm chapter kernels: kernel start and package imports paid once per build, not per chapter.

A template process (`server.py`) imports ipykernel, the heavy packages the cells import (numpy,
pint, matplotlib) and the book's own packages found in the kernel's working directory
(`discover.py`), then forks a fresh, real ipykernel per chapter when jupyter_client asks our
provisioner (`provisioner.py`) to launch one. Each chapter still gets its own process and
namespace and speaks the Jupyter protocol (errors, rich outputs, `user_expressions`); file-read
recording starts in the chapter's kernel, and modules the template preloaded, with the files
they read, count as the chapter's dependencies once it imports any of them.
Two differences from a plain kernel, neither visible in a page: a forked kernel offers no
debugger (debugpy is hidden while ipykernel imports; nobody can attach to a build's private
kernel, and the import is 70 ms of every cold build), and preview's template draws one small
matplotlib figure before forking, so a code edit's plot finds fonts and mathtext loaded.

`template.py` is the build's side: one template per kernel directory, started before the
cache keys and the static check when the build is cold, taught the chapters' packages once they
are parsed, replaced when a module it imported changes, and stopped as soon as the build's last
chapter has run (or at the command session's end, atexit, SIGTERM, its parent gone, idle).
Preview's builder (a session with `keep_warm`) keeps it between
edits, with one kernel already forked per recent chapter launch (`execute.start_spares`). Set
`bookbuild: {warm-kernels: false}` in `_quarto.yml` for plain kernels, one interpreter each.
"""
