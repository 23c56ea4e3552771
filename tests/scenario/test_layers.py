"""The scenario package imports only the layers below it and has no import cycle inside (issue 11).

Layer order, bottom to top: errors, files, tabulate, election, scenario, devices, ... cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pollsim.scenario

PACKAGE = Path(pollsim.scenario.__file__).parent
# and the root package itself (its lazy names, ``pollsim.lazy_names``): docs/architecture.md lets every layer import it
BELOW = {"pollsim", "pollsim.errors", "pollsim.files", "pollsim.tabulate", "pollsim.election"}


def imports() -> dict[str, set[str]]:
    """Module name -> the pollsim modules it imports (anywhere in it, lazily or not)."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        name = f"pollsim.scenario.{path.stem}" if path.stem != "__init__" else "pollsim.scenario"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pollsim"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("pollsim")}
        graph[name] = found
    return graph


def test_scenario_imports_only_lower_layers():
    for module, targets in imports().items():
        for target in targets:
            assert target.startswith("pollsim.scenario") or any(target == b or (b != "pollsim" and target.startswith(b + ".")) for b in BELOW), (module, target)


def test_no_import_cycle_between_scenario_modules():
    graph = {m: {t for t in ts if t.startswith("pollsim.scenario.")} for m, ts in imports().items() if m != "pollsim.scenario"}
    done: set[str] = set()

    def visit(module: str, stack: tuple[str, ...]) -> None:
        assert module not in stack, " -> ".join((*stack, module))
        if module in done:
            return
        for target in graph.get(module, ()):
            visit(target, (*stack, module))
        done.add(module)

    for module in graph:
        visit(module, ())
    assert "pollsim.scenario.generate" in graph and "pollsim.scenario.models" not in graph["pollsim.scenario.generate"]


def test_modules_are_under_400_lines_and_say_what_they_model():
    for path in PACKAGE.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 400, path.name
        doc = ast.get_docstring(ast.parse(text))
        assert doc and "§" in doc, f"{path.name}: docstring with the law section it follows"
