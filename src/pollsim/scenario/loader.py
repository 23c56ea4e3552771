"""Reading a scenario file: YAML in, a validated :class:`Scenario` out, or every problem as one line.

A poll-manager trainer edits these files by hand, so a mistake must be told plainly: each problem
is one line ``FILE:LINE: FIELD.PATH: what was expected``, the line being where the field (or, for a
missing field, its parent) stands in the file. The YAML is composed once with its node marks, so
line numbers come from the parser, not from searching the text. Problems with the file itself
name ``(file)`` or ``(YAML)`` where a field would stand. Nothing a file holds can make this
print a traceback or hang (pollsim.scenario.yamldoc bounds the reading, the models every value).
The polling hours and ballot accounting checked are those of Miss. Code §23-15-581 and §23-15-615.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pollsim.errors import ScenarioError
from pollsim.scenario.models import FieldProblem, Scenario
from pollsim.scenario.yamldoc import Located, YamlProblem, compose, read_text

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]*$")


def dotted(path: tuple[str | int, ...]) -> str:
    """('precincts', 0, 'id') -> 'precincts[0].id'; a key that is not a plain name is quoted: ['a: b']."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _unwrap(annotation: Any) -> Any:
    """Drop Annotated metadata and Optional."""
    while typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The scenario model whose fields stand at ``path`` (``()``: Scenario), or None."""
    annotation: Any = Scenario
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = field.annotation if field else None
        elif typing.get_origin(annotation) in (list, dict):
            annotation = typing.get_args(annotation)[-1]  # a list's item, a mapping's value
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unknown_field(loc: tuple[str | int, ...]) -> str:
    model = model_at(loc[:-1])
    if model is None:
        return "unknown field (see docs/scenarios.md)"
    names = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field; {hint}valid here: {', '.join(names)}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return repr(value)


_EXPECTED = {
    "model_type": "a mapping of fields (key: value)", "model_attributes_type": "a mapping of fields (key: value)",
    "dict_type": "a mapping (key: value)", "list_type": "a list", "int_type": "a whole number", "float_type": "a number",
    "bool_type": "true or false", "string_type": "text", "date_type": "a date as YYYY-MM-DD", "finite_number": "a finite number",
}  # fmt: skip


def _message(err: Any) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(tuple(err["loc"]))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_kind(err.get('input'))}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal") and "input" in err:
        msg += f" (got {err['input']!r})"
    return msg


def _generated(loc: tuple[str | int, ...], data: dict[str, Any]) -> bool:
    """Whether ``loc`` is inside precincts generated from the mississippi section (not in the file)."""
    return bool(loc) and loc[0] == "precincts" and "precincts" not in data and isinstance(data.get("mississippi"), dict)


def problems_of(exc: ValidationError, doc: Located, path: Path) -> list[str]:
    """One ``FILE:LINE: FIELD: message`` line per validation error."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            loc += cause.path
        if _generated(loc, doc.data):
            line = f"{path}:{doc.line_of(('mississippi',))}: mississippi: generated {dotted(loc)}: {_message(err)}"
            out.append(line + " (adjust the mississippi ballots_per_* settings)")
        else:
            out.append(f"{path}:{doc.line_of(loc)}: {dotted(loc)}: {_message(err)}")
    return out


def read_mapping(path: str | Path, what: str = "a scenario needs scenario, election and precincts") -> Located:
    """Read a YAML file of fields (a scenario, or a partial one such as a stress faults file) safely.

    The data (``.data``, a dict) with the line of every node (``.line_of``); any problem with the
    file or its YAML raises :class:`ScenarioError` as one ``FILE:LINE: (file|YAML|FIELD): ...`` line.
    """
    path = Path(path)
    try:
        node = compose(read_text(path))
        if node is None:
            raise YamlProblem(1, (), f"the file is empty; {what}")
        doc = Located(node)
    except YamlProblem as p:
        where = dotted(p.path) if p.path is not None else ("(file)" if p.message.startswith(("cannot read", "larger")) else "(YAML)")
        raise ScenarioError([f"{path}:{p.line}: {where}: {p.message}"]) from None
    if not isinstance(doc.data, dict):
        raise ScenarioError([f"{path}:{doc.line_of(())}: (top level): expected a mapping of fields (scenario, election, precincts...), got {_kind(doc.data)}"])
    return doc


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` listing every problem."""
    doc = read_mapping(path)
    try:
        return Scenario.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(problems_of(exc, doc, Path(path))) from None
