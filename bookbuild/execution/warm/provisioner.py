"""A jupyter_client kernel provisioner that launches the kernel by forking the warm template.

Everything but the launch is `LocalProvisioner`'s: connection file, ports (IPC sockets here),
signals to the kernel's process group, kill and wait. The forked kernel is not our child, so a
small stand-in for `Popen` polls it by pid.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Unicode


class ForkedKernel:
    """What `LocalProvisioner` needs of a `Popen`, for a process another process started."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -signal.SIGKILL  # the exit status went to the template
            except PermissionError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"kernel {self.pid} still running")
            time.sleep(0.005)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        print(message, file=sys.stderr)


class WarmProvisioner(LocalProvisioner):
    """Launches `ipykernel_launcher ARGS` as a fork of the template listening on `template_socket`."""

    template_socket = Unicode(config=True, help="Unix socket of the warm template process")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        from bookbuild.execution.warm.template import TemplateError, by_socket

        if "ipykernel_launcher" not in cmd:  # not a plain ipykernel: start it the usual way
            return await super().launch_kernel(cmd, **kwargs)
        argv = cmd[cmd.index("ipykernel_launcher") + 1:]
        env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = str(kwargs.get("cwd") or os.getcwd())
        template = by_socket(self.template_socket)
        # In a thread: the first request waits for the template's imports, and other chapters'
        # kernels keep talking to the event loop meanwhile.
        try:
            pid = await asyncio.to_thread(template.fork, argv, cwd, env)
        except TemplateError as exc:  # the chapter still runs, in a kernel of its own
            _warn_once(f"warning: warm kernels unavailable ({exc}); starting plain kernels")
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(pid)
        self.pid = self.pgid = pid  # the template made the kernel a process-group leader
        self.cwd = cwd
        return self.connection_info
