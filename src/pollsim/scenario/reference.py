"""The scenario reference: every field of a scenario file, its default and its documented source.

Generated from the models themselves (their attribute docstrings), so docs/scenarios.md cannot
drift from what the loader accepts: ``python -m pollsim.scenario.reference`` prints the table and
a test checks that the doc carries every field.
"""

from __future__ import annotations

import json
import types
import typing

from pydantic import BaseModel

from pollsim.scenario.models import Scenario, ServiceTime


def _model_of(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in typing.get_args(annotation))
    if origin in (list,):
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None)) + " (optional)"
    if isinstance(annotation, type):
        return {"str": "text", "int": "integer", "float": "number", "bool": "true/false", "date": "date"}.get(annotation.__name__, annotation.__name__)
    return str(annotation)


def _default(field) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, ServiceTime):
        text = f"{value.distribution} mean {value.mean:g}"
        text += f" sd {value.sd:g}" if value.sd else ""
        return text + (f" + {value.per_contest:g}/contest" if value.per_contest else "")
    if isinstance(value, BaseModel):
        return "(section)"
    if value is None:
        return "see description"
    return json.dumps(value, default=str)


def field_rows(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(path, type, default, description) for every field, depth first; list items as ``[]``."""
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        rows.append((path, _type_name(field.annotation), _default(field), (field.description or "").replace("\n", " ")))
        sub = _model_of(field.annotation)
        if sub is ServiceTime and prefix == "service_times.":
            continue  # its fields are listed once, under service_times.*
            is_list = typing.get_origin(field.annotation) is list
            rows.extend(field_rows(sub, f"{path}[]." if is_list else f"{path}."))
    return rows


def markdown_table() -> str:
    lines = ["| field | type | default | meaning and source |", "|---|---|---|---|"]
    rows = field_rows() + field_rows(ServiceTime, "service_times.*.")
    for path, typ, default, desc in rows:
        lines.append(f"| `{path}` | {typ} | `{default}` | {desc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
