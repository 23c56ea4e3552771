"""The scenario reference: every field of a scenario file, its type, default, bounds and documented source.

Generated from the models themselves (their annotations, constraints and attribute docstrings),
so docs/scenarios.md cannot drift from what the loader accepts: ``python -m
pollsim.scenario.reference`` prints the table, and a test checks the doc against a walk of the
models of its own. Fields follow the schema of pollsim.scenario.models (polling hours of Miss.
Code §23-15-581, ballot accounting of §23-15-615).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import AfterValidator, BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from pollsim.scenario.fields import _clock, _date, _ident
from pollsim.scenario.models import Scenario, ServiceTime

SERVICE_TIME = "service_times.*"
"""Where the fields of every service time are listed once."""
_SPECIAL = {_ident: "id", _clock: "HH:MM", _date: "date"}
_SPECIAL_BOUNDS = {_ident: "1-64 letters, digits, - _ . or spaces", _clock: "00:00 to 23:59", _date: "1900-01-01 to 2100-12-31"}


def _parts(annotation: Any) -> tuple[Any, list[Any]]:
    """(the bare type, its metadata) of an ``Annotated[...]``; other annotations as they are."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        return base, meta
    return annotation, []


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds and how its fields are addressed below it: '.', '[].' or '.*.'."""
    base, _ = _parts(annotation)
    if isinstance(base, type) and issubclass(base, BaseModel):
        return base, "."
    origin = typing.get_origin(base)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(base):
            found, sep = _model_of(arg)
            if found is not None:
                return found, sep
    if origin is list:
        found, _sep = _model_of(typing.get_args(base)[0])
        return found, "[]."
    if origin is dict:
        found, _sep = _model_of(typing.get_args(base)[1])
        return found, ".*."
    return None, ""


def _type_name(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    base, meta = _parts(annotation)
    for m in [*metadata, *meta]:
        if isinstance(m, (AfterValidator, BeforeValidator)) and m.func in _SPECIAL:
            return _SPECIAL[m.func]
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in typing.get_args(base))
    if origin is list:
        return f"list of {_type_name(typing.get_args(base)[0])}"
    if origin is dict:
        return f"mapping of name to {_type_name(typing.get_args(base)[1])}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(base) if a is not type(None)) + " (optional)"
    if base is ServiceTime:
        return "service time"
    if isinstance(base, type):
        return {"str": "text", "int": "integer", "float": "number", "bool": "true/false"}.get(base.__name__, base.__name__)
    return str(base)


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, FieldInfo):
            out.update(_constraints(list(m.metadata)))
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if getattr(m, key, None) is not None:
                out[key] = getattr(m, key)
    return out


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _range(c: dict[str, Any], unit: str = "") -> str:
    lo = f"{_num(c['ge'])} ≤ " if "ge" in c else (f"{_num(c['gt'])} < " if "gt" in c else "")
    hi = f" ≤ {_num(c['le'])}" if "le" in c else (f" < {_num(c['lt'])}" if "lt" in c else "")
    text = f"{lo}x{hi}" if lo or hi else ""
    if "max_length" in c:
        text += ("; " if text else "") + f"{_num(c.get('min_length', 0))}-{_num(c['max_length'])} {unit or 'long'}"
    return text


def bounds(annotation: Any, metadata: list[Any]) -> str:
    """The allowed values of a field, from its constraints (and those of its items)."""
    base, meta = _parts(annotation)
    for m in [*metadata, *meta]:
        if isinstance(m, (AfterValidator, BeforeValidator)) and m.func in _SPECIAL_BOUNDS:
            return _SPECIAL_BOUNDS[m.func]
    own = _constraints([*metadata, *meta])
    origin = typing.get_origin(base)
    if origin in (typing.Union, types.UnionType):
        inner = [bounds(a, []) for a in typing.get_args(base) if a is not type(None)]
        return "; ".join(t for t in [_range(own), *inner] if t)
    if origin in (list, dict):
        item = bounds(typing.get_args(base)[-1], [])
        own_text = _range(own, "items" if origin is list else "entries")
        item = item if not item or item.startswith("each ") else f"each {item}"
        return "; ".join(t for t in [item, own_text] if t)
    if base is str and "max_length" in own:
        return f"{_num(own.get('min_length', 0))}-{_num(own['max_length'])} characters"
    return _range(own)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, ServiceTime):
        text = f"{value.distribution} mean {value.mean:g}"
        text += f" sd {value.sd:g}" if value.sd else ""
        return text + (f" + {value.per_contest:g}/contest" if value.per_contest else "")
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"({len(value)} steps)"
    if value is None:
        return "see description"
    return json.dumps(value, default=str)


Row = tuple[str, str, str, str, str]


def field_rows(model: type[BaseModel] = Scenario, prefix: str = "") -> list[Row]:
    """(path, type, default, allowed, description) for every field, depth first; list items as ``[]``,
    mapping values as ``*``; a service time's fields once, under ``service_times.*``."""
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        desc = " ".join((field.description or "").split())
        rows.append((path, _type_name(field.annotation, field.metadata), _default(field), bounds(field.annotation, field.metadata), desc))
        sub, sep = _model_of(field.annotation)
        if sub is not None and sub is not ServiceTime:
            rows.extend(field_rows(sub, f"{path}{sep}"))
    return rows


def all_rows() -> list[Row]:
    return field_rows() + field_rows(ServiceTime, f"{SERVICE_TIME}.")


def markdown_table() -> str:
    lines = ["| field | type | default | allowed | meaning and source |", "|---|---|---|---|---|"]
    for path, typ, default, allowed, desc in all_rows():
        lines.append(f"| `{path}` | {typ} | `{default}` | {allowed} | {desc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
