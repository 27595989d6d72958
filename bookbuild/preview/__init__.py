"""`bookbuild preview`: a local server that rebuilds what changed and reloads the page.

Modules: previewer (the orchestrator), server (HTTP on 127.0.0.1), watcher (what changed and
what it rebuilds), builder (the build child process), engine (the one seam to the build).
"""

from __future__ import annotations


def __getattr__(name: str):
    # Lazy, so the builder child (builder.CHILD) does not import the
    # server stack it never uses.
    if name == "Previewer":
        from bookbuild.preview.previewer import Previewer

        return Previewer
    raise AttributeError(name)
