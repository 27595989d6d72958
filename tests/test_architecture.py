"""The engine's shape: imports flow one way (no cycles, even through function-local imports)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "bookbuild"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every bookbuild module and the bookbuild modules it imports, anywhere in its body."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    # `import bookbuild.x` also runs bookbuild/__init__.py; that edge is not a layering choice.
    return {m: deps - {"bookbuild"} for m, deps in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_of_the_engine_is_acyclic() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# The stages from the bottom up: a module imports only from its own stage or the ones below it.
STAGES = ["system", "source", "model", "analysis", "kernel", "execution", "numbers", "literals",
          "publish", "commands", "preview", "cli", "__main__"]


def stage(module: str) -> str:
    """`bookbuild.publish.tikz` -> `publish`; the package's own `__init__` is no stage."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def arrows_up(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every import from a lower stage of a module in a higher one."""
    return sorted((m, d) for m, deps in graph.items() for d in deps
                  if stage(m) and stage(d) and STAGES.index(stage(d)) > STAGES.index(stage(m)))


def test_every_module_belongs_to_a_stage() -> None:
    assert {stage(m) for m in import_graph()} - {""} == set(STAGES)


def test_the_stages_stack_one_way() -> None:
    assert arrows_up(import_graph()) == []


def test_the_stage_check_sees_an_arrow_up() -> None:
    graph = {"bookbuild.system.atomic": {"bookbuild.publish.tikz"}, "bookbuild.publish.tikz": set()}
    assert arrows_up(graph) == [("bookbuild.system.atomic", "bookbuild.publish.tikz")]


def test_stages_never_import_the_orchestrators() -> None:
    graph = import_graph()
    orchestrators = {m for m in graph if stage(m) in ("commands", "preview", "cli")}
    for module, deps in graph.items():
        if stage(module) in ("commands", "preview", "cli", "__main__"):
            continue
        assert not deps & orchestrators, f"{module} imports {sorted(deps & orchestrators)}"


def test_errors_is_a_leaf() -> None:
    assert import_graph()["bookbuild.system.errors"] == set()
