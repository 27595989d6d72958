"""The `bookbuild` command's entry: Ctrl-C or SIGTERM is one line and exit 130 from its first
instant, before the command line's own handlers (which also stop children) are in place."""

import os
import signal

INTERRUPTED = "bookbuild: interrupted; kernels and child processes stopped\n"


def _before_handlers(signum, frame) -> None:
    # Nothing has started yet (no kernel, no file written): there is nothing to clean up.
    os.write(2, INTERRUPTED.encode())
    os._exit(130)


# At import, not in main(): the console script imports this module before it calls main.
signal.signal(signal.SIGINT, _before_handlers)
signal.signal(signal.SIGTERM, _before_handlers)


def main() -> int:
    from bookbuild.cli import main as cli_main

    try:
        code = cli_main()
    except KeyboardInterrupt:  # landed after the command's own handling ended
        os.write(2, INTERRUPTED.encode())
        code = 130
    finally:
        # The command is over: a late signal must not cut short the shutdown that stops the
        # children (warm templates, pandoc workers) or turn into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if code == 130:
        # Interrupted: children are stopped and every file is whole or gone. An object a
        # cancelled task dropped mid-way (a kernel client whose zmq context waits for sockets
        # nobody will close) must not hang the interpreter's shutdown: a C-level watchdog ends
        # the process if the shutdown (atexit cleanups included) takes more than 10 s.
        import faulthandler

        faulthandler.dump_traceback_later(10, exit=True, file=open(os.devnull, "w"))  # noqa: SIM115
    return code


if __name__ == "__main__":
    raise SystemExit(main())
