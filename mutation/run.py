"""`make mutants`: cosmic-ray over the engine's core modules, one fast test command per module.

Reads mutation/modules.toml (which modules, which tests, which operators) and
mutation/equivalent.toml (mutants no test can kill, each with its reason), runs one
cosmic-ray session per module with a single worker, and prints the score and every survivor.
Exit 1 when a module's tests fail unmutated or the total score is below the target.

    .venv/bin/python mutation/run.py [MODULE ...] [--report | --survivors | --resume | --sample N]

--sample N tests N random mutants per module (an estimate when time is short); --report prints
the last run; --survivors runs again only what survived it (after adding a
test: seconds, not the whole module), re-reading equivalent.toml first; --resume goes on with
an interrupted run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tomllib
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SESSIONS = ROOT / ".bookbuild" / "mutants"


@dataclass
class Module:
    name: str
    path: str
    tests: list[str]
    functions: list[str]  # empty: every function in the file


def load_config() -> tuple[dict, list[Module], list[dict]]:
    cfg = tomllib.loads((HERE / "modules.toml").read_text(encoding="utf-8"))
    modules = [Module(m["name"], m["path"], m["tests"], m.get("functions", []))
               for m in cfg["module"]]
    equivalent = tomllib.loads((HERE / "equivalent.toml").read_text(encoding="utf-8"))
    return cfg["run"], modules, equivalent.get("equivalent", [])


def test_command(m: Module) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
            "-p", "no:hypothesispytest", *m.tests]


def baseline(m: Module) -> float:
    """Seconds the module's tests take unmutated; they must pass, or every mutant 'dies'."""
    t = time.monotonic()
    r = subprocess.run(test_command(m), cwd=ROOT, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"mutants: the tests of {m.name} fail without any mutant:\n{r.stdout[-3000:]}")
    return time.monotonic() - t


def write_session_config(m: Module, timeout: float) -> Path:
    SESSIONS.mkdir(parents=True, exist_ok=True)
    cmd = " ".join(test_command(m))
    conf = SESSIONS / f"{m.name}.toml"
    conf.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{m.path}"\n'
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f'test-command = "{cmd}"\n'
        '[cosmic-ray.distributor]\nname = "local"\n', encoding="utf-8")
    return conf


def _line(source_lines: list[str], row: int) -> str:
    return source_lines[row - 1].strip() if 0 < row <= len(source_lines) else ""


def _functions(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function in the module, methods as Class.name."""
    import ast

    out = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((child.lineno, child.end_lineno, prefix + child.name))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(ast.parse(source), "")
    return out


def _annotations(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans of type annotations: with `from __future__ import annotations` they are never
    evaluated, so a mutant inside one cannot change behaviour (skipped, not counted)."""
    import ast

    spans = []
    for node in ast.walk(ast.parse(source)):
        found = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node.returns)
        elif isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in found if a]
    return spans


def _function_at(funcs: list[tuple[int, int, str]], row: int) -> str:
    best = ""
    for a, b, name in funcs:  # innermost wins: later entries are nested deeper
        if a <= row <= b:
            best = name
    return best


def skip(db: WorkDB, job_id: str, why: str) -> None:
    db.set_result(job_id, WorkResult(output=why, worker_outcome=WorkerOutcome.SKIPPED))


def mutated_line(source: str, spec) -> tuple[str, str]:
    """The changed line of a mutant, before and after (stripped): how equivalent.toml names it."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    operator = cosmic_ray.plugins.get_operator(spec.operator_name)(**(spec.operator_args or {}))
    mutated = mutate_code(source, operator, spec.occurrence) or source
    row = spec.start_pos[0]
    before, after = source.splitlines(), mutated.splitlines()
    return _line(before, row), _line(after, row)


def filter_session(db: WorkDB, m: Module, keep: re.Pattern, equivalent: list[dict]) -> int:
    """Skip mutants of operators we do not run, outside the chosen functions, or equivalent."""
    source = (ROOT / m.path).read_text(encoding="utf-8")
    funcs = _functions(source)
    lazy = "from __future__ import annotations" in source
    annotations = _annotations(source) if lazy else []
    # An entry names the line before and after the mutation, and, where that is not unique,
    # the line above it (`after`).
    equiv = [e for e in equivalent if e["module"] == m.name]
    lines = source.splitlines()
    used = set()
    n = 0
    for item in list(db.pending_work_items):
        spec = item.mutations[0]
        op = spec.operator_name.removeprefix("core/")
        row = spec.start_pos[0]
        if not keep.fullmatch(op):
            skip(db, item.job_id, "operator not run")
        elif m.functions and _function_at(funcs, row) not in m.functions:
            skip(db, item.job_id, "outside the functions under test")
        elif any(a <= tuple(spec.start_pos) and tuple(spec.end_pos) <= b for a, b in annotations):
            skip(db, item.job_id, "equivalent: inside a type annotation, which is never evaluated")
        elif (hit := _equivalent(equiv, mutated_line(source, spec), _line(lines, row - 1))) is not None:
            used.add(hit)
            skip(db, item.job_id, "equivalent: " + equiv[hit]["why"])
        else:
            n += 1
    for i, e in enumerate(equiv):
        if i not in used:
            print(f"  note: equivalent mutant not found in {m.path}: {e['line']!r} -> {e['mutant']!r}")
    return n


def _equivalent(equiv: list[dict], change: tuple[str, str], above: str) -> int | None:
    for i, e in enumerate(equiv):
        if (e["line"], e["mutant"]) == change and e.get("after", above) == above:
            return i
    return None


@dataclass
class Score:
    module: Module
    killed: int
    survivors: list[str]
    equivalent: int
    unsampled: int = 0

    @property
    def total(self) -> int:
        return self.killed + len(self.survivors)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0


def _mutation_text(diff: str) -> tuple[str, str]:
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(minus), " / ".join(plus)


def score(session: Path, m: Module) -> Score:
    killed, survivors, equivalent, unsampled = 0, [], 0, 0
    funcs = _functions((ROOT / m.path).read_text(encoding="utf-8"))
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            spec = item.mutations[0]
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                equivalent += (result.output or "").startswith("equivalent")
                unsampled += result.output == "not in the sample"
                continue
            if result.worker_outcome == WorkerOutcome.NORMAL and result.test_outcome == TestOutcome.SURVIVED:
                old, new = _mutation_text(result.diff or "")
                row = spec.start_pos[0]
                survivors.append(f"{m.path}:{row} {_function_at(funcs, row)} "
                                 f"{spec.operator_name.removeprefix('core/')}: {old}  →  {new}")
            else:
                killed += 1  # failed tests, an import error, or a timeout all catch the bug
    return Score(m, killed, sorted(survivors, key=_row_key), equivalent, unsampled)


def _row_key(s: str) -> tuple[str, int]:
    path, row = s.split(" ", 1)[0].rsplit(":", 1)
    return path, int(row)


def _fingerprint(m: Module) -> str:
    import hashlib

    return hashlib.sha256((ROOT / m.path).read_bytes()).hexdigest()


def _same_source(m: Module) -> bool:
    """Whether the module is as it was when its session began: mutants are numbered per file,
    so an edited file makes the old session's mutants point at other places."""
    stamp = SESSIONS / f"{m.name}.source"
    return stamp.exists() and stamp.read_text() == _fingerprint(m)


def rerun_survivors(m: Module, run_cfg: dict, equivalent: list[dict]) -> Path:
    """Forget the survivors of the last run of `m` and test only them again."""
    import sqlite3

    session = SESSIONS / f"{m.name}.sqlite"
    if not session.exists() or not _same_source(m):
        return run_module(m, run_cfg, equivalent)
    # The test files may have changed since (a new file in modules.toml): use today's list.
    conf = write_session_config(m, max(run_cfg.get("min-timeout", 20), 5 * baseline(m)))
    with sqlite3.connect(session) as db:
        db.execute("DELETE FROM work_results WHERE upper(test_outcome) = 'SURVIVED'")
    keep = re.compile("|".join(f"(?:{p})" for p in run_cfg["operators"]))
    with use_db(str(session)) as db:
        n = filter_session(db, m, keep, equivalent)
    print(f"{m.name}: {n} survivors again", flush=True)
    exec_session(m, conf, session)
    return session


def exec_session(m: Module, conf: Path, session: Path) -> None:
    """`cosmic-ray exec`, then the module exactly as it was, however the run ends.

    cosmic-ray writes each mutant into the source file; a run killed mid-mutant (a hang-up, a
    Ctrl-C) would leave one there to be committed by accident.
    """
    import signal

    path = ROOT / m.path
    original = path.read_bytes()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("cosmic-ray")), "exec", str(conf),
                             str(session)], cwd=ROOT, start_new_session=True)

    def stop(signum, _frame):
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if proc.wait(timeout=4 * 3600) != 0:
            sys.exit(f"mutants: cosmic-ray exec failed for {m.name} (exit {proc.returncode})")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if path.read_bytes() != original:
            path.write_bytes(original)
            print(f"mutants: restored {m.path} after an interrupted run", file=sys.stderr)
        for sig, handler in old.items():
            signal.signal(sig, handler)


def resume(m: Module, run_cfg: dict, equivalent: list[dict]) -> Path:
    """Go on with an interrupted session: only the mutants it has not tested yet."""
    session = SESSIONS / f"{m.name}.sqlite"
    if not _same_source(m):
        return run_module(m, run_cfg, equivalent)
    conf = write_session_config(m, max(run_cfg.get("min-timeout", 20), 5 * baseline(m)))
    keep = re.compile("|".join(f"(?:{p})" for p in run_cfg["operators"]))
    with use_db(str(session)) as db:
        n = filter_session(db, m, keep, equivalent)
    print(f"{m.name}: {n} mutants still to test", flush=True)
    exec_session(m, conf, session)
    return session


def sample_session(db: WorkDB, m: Module, size: int) -> None:
    """Test only `size` mutants picked at random (a seed per module, so a rerun picks the same):
    an estimate of the score in minutes when the machine is too busy for all of them."""
    import random

    pending = sorted(item.job_id for item in db.pending_work_items)
    chosen = set(random.Random(m.name).sample(pending, size))
    for job in pending:
        if job not in chosen:
            skip(db, job, "not in the sample")


def run_module(m: Module, run_cfg: dict, equivalent: list[dict], sample: int = 0) -> Path:
    took = baseline(m)
    conf = write_session_config(m, max(run_cfg.get("min-timeout", 20), 5 * took))
    session = SESSIONS / f"{m.name}.sqlite"
    subprocess.run([str(Path(sys.executable).with_name("cosmic-ray")), "init", "--force",
                    str(conf), str(session)], cwd=ROOT, check=True, timeout=300)
    (SESSIONS / f"{m.name}.source").write_text(_fingerprint(m))
    keep = re.compile("|".join(f"(?:{p})" for p in run_cfg["operators"]))
    with use_db(str(session)) as db:
        n = filter_session(db, m, keep, equivalent)
        if sample and n > sample:
            sample_session(db, m, sample)
            print(f"{m.name}: a random sample of {sample} of {n} mutants", flush=True)
    print(f"{m.name}: {min(n, sample or n)} mutants, tests take {took:.1f} s each run", flush=True)
    exec_session(m, conf, session)
    return session


FLAGS = {"--sample", "--survivors", "--resume", "--report"}
USAGE = ("usage: mutation/run.py [MODULE ...] [--sample N] [--survivors | --resume | --report]\n"
         "  (make mutants MODULES=\"lock output\" ARGS=--survivors); see mutation/README.md")


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("-")}
    count = argv[argv.index("--sample") + 1:][:1] if "--sample" in argv else ["0"]
    if flags - FLAGS or not (count and count[0].isdigit()):
        print(USAGE, file=sys.stderr)  # never start an hour-long run on a flag we do not know
        return 0 if flags & {"-h", "--help"} else 2
    run_cfg, modules, equivalent = load_config()
    sample = int(argv[argv.index("--sample") + 1]) if "--sample" in argv else 0
    only = [a for a in argv if not a.startswith("-") and not a.isdigit()]
    unknown = set(only) - {m.name for m in modules}
    if unknown:
        sys.exit(f"mutants: unknown module(s) {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(m.name for m in modules)}")
    by_name = {m.name: m for m in modules}
    chosen = [by_name[n] for n in only] if only else modules  # in the order asked
    scores = []
    for m in chosen:
        session = SESSIONS / f"{m.name}.sqlite"
        if "--survivors" in argv:
            session = rerun_survivors(m, run_cfg, equivalent)
        elif "--resume" in argv and session.exists():
            session = resume(m, run_cfg, equivalent)
        elif "--report" not in argv:
            session = run_module(m, run_cfg, equivalent, sample)
        elif not session.exists():
            print(f"{m.name}: no run yet")
            continue
        scores.append(score(session, m))
    print()
    for s in scores:
        for line in s.survivors:
            print(f"survived: {line}")
    print()
    for s in scores:
        print(f"{s.module.name:<14} {s.percent:5.1f}%  {s.killed}/{s.total} killed, "
              f"{len(s.survivors)} survived, {s.equivalent} equivalent"
              + (f" (a sample: {s.unsampled} not tested)" if s.unsampled else ""))
    killed = sum(s.killed for s in scores)
    total = sum(s.total for s in scores)
    overall = 100.0 * killed / total if total else 100.0
    target = run_cfg["target"]
    print(f"{'total':<14} {overall:5.1f}%  {killed}/{total} killed (target {target}%)")
    return 0 if overall >= target else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
