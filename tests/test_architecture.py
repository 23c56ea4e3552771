"""The house rules of the package: layers in one direction, no import cycles, one run-directory reader.

Independent of the code it checks: it parses ``src/pollsim`` with ``ast`` and the layer table in
docs/architecture.md, and fails on any import that goes up or sideways, any cycle of modules
importing each other at import time, a second reader of the run directory, or a module grown past
the size the brief allows.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pollsim"
MAX_LINES = 400
FLAT_TABLES = {"scenario/models.py"}  # the scenario schema may stay one file, split by section headers


def _layers() -> dict[str, int]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = text.split("<!-- layers: the test reads this block -->", 1)[1].split("```", 2)[1]
    layers = {}
    for line in block.strip().splitlines():
        level, *names = line.split()
        for name in names:
            layers[name] = int(level)
    return layers


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(tree: ast.Module, top_level_only: bool) -> list[str]:
    """pollsim modules imported, leaving out ``if TYPE_CHECKING:`` blocks (and, if asked, imports inside functions)."""
    out: list[str] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("pollsim") and not (top_level_only and in_function):
                out.append(child.module)
                out.extend(f"{child.module}.{a.name}" for a in child.names)  # a submodule imported by name
            elif isinstance(child, ast.Import) and not (top_level_only and in_function):
                out.extend(a.name for a in child.names if a.name.startswith("pollsim"))
            visit(child, nested)

    visit(tree, False)
    return out


def _sources() -> dict[str, ast.Module]:
    return {_module(p): ast.parse(p.read_text(), str(p)) for p in SRC.rglob("*.py")}


def test_every_package_is_in_the_layer_table():
    layers = _layers()
    packages = {_package(m) for m in _sources()} - {""}
    assert packages <= set(layers), f"packages missing from docs/architecture.md: {sorted(packages - set(layers))}"


def test_imports_go_down_the_layers_only():
    layers = _layers()
    modules = _sources()
    wrong = []
    for module, tree in modules.items():
        src = _package(module)
        for target in _imports(tree, top_level_only=False):
            dst = _package(target)
            if target not in modules and target.rsplit(".", 1)[0] in modules:
                dst = _package(target.rsplit(".", 1)[0])
            if not src or not dst or src == dst:
                continue
            if layers[dst] >= layers[src]:
                wrong.append(f"{module} imports {target} ({src} is layer {layers[src]}, {dst} is layer {layers[dst]})")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_modules_import_each_other_in_a_cycle():
    modules = _sources()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, tree in modules.items():
        for target in _imports(tree, top_level_only=True):
            if target in modules and target != module:
                graph[module].add(target)
    state: dict[str, int] = {}
    cycles = []

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            # a package's __init__ re-exporting its own modules is not a cycle through them
            if node.startswith(nxt + ".") or nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = 2

    for m in sorted(modules):
        if m not in state:
            walk(m, [m])
    assert not cycles, "\n".join(cycles)


def test_one_reader_of_the_run_directory():
    pattern = re.compile(r"class RunData\b|def load_run\b|def counts_from_rundir\b|class RunDir\b")
    hits = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") for line in p.read_text().splitlines() if pattern.search(line)]
    assert hits == ["rundir/ballots.py"], hits
    # nobody else opens the run directory's data files
    names = ("ballots.npz", "voters.npz", "eventlog.npz", "precincts.csv", "devices.csv")
    readers = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
        if not p.relative_to(SRC).as_posix().startswith("rundir/") and re.search(r"(np\.load|open|read_text|read_bytes)\([^)]*(" + "|".join(map(re.escape, names)) + ")", p.read_text())
    )  # fmt: skip
    assert readers == []


def test_one_implementation_of_atomic_writes():
    uses = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "os.replace(" in p.read_text() or ".replace(out" in p.read_text())
    assert uses == ["files.py"], uses


def test_no_module_is_over_the_size_limit():
    big = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert set(big) <= FLAT_TABLES, big


def test_every_module_says_what_it_models():
    missing = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert not missing, missing
