"""Reading a scenario file: YAML in, a validated :class:`Scenario` out, or every problem as one line.

A poll-manager trainer edits these files by hand, so a mistake must be told plainly: each problem
is one line ``FILE:LINE: FIELD.PATH: what was expected``, the line being where the field (or, for a
missing field, its parent) stands in the file. The YAML is composed once with its node marks, so
line numbers come from the parser, not from searching the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pollsim.errors import ScenarioError
from pollsim.scenario.models import FieldProblem, Scenario


class _Located:
    """A YAML document as plain Python data plus the line of every node, by path."""

    def __init__(self, node: yaml.Node):
        self.lines: dict[tuple, int] = {}
        self.data = self._build(node, ())

    def _build(self, node: yaml.Node, path: tuple) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in out:
                    raise _Duplicate(key_node.start_mark.line + 1, path + (key,))
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self._build(value_node, path + (key,))
                self.lines[path + (key,)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, path + (i,)) for i, item in enumerate(node.value)]
        return _scalar(node)

    def line_of(self, path: tuple) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


class _Duplicate(Exception):
    def __init__(self, line: int, path: tuple):
        self.line, self.path = line, path


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; see docs/scenarios.md)"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the scenario file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError([f"{path}:{line}: YAML syntax: {exc.problem or exc.context}"]) from None
    if node is None:
        raise ScenarioError([f"{path}:1: the file is empty; a scenario needs scenario, election and precincts"])
    try:
        doc = _Located(node)
    except _Duplicate as dup:
        raise ScenarioError([f"{path}:{dup.line}: {_dotted(dup.path)}: the field is given twice"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{path}: YAML: {exc}"]) from None
    if not isinstance(doc.data, dict):
        raise ScenarioError([f"{path}:1: expected a mapping of fields at the top level"])
    try:
        return Scenario.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, FieldProblem):
                loc += cause.path
            problems.append(f"{path}:{doc.line_of(loc)}: {_dotted(loc)}: {_message(err)}")
        raise ScenarioError(problems) from None
