"""A small streaming JSON writer: a document whose big array is written a chunk at a time.

A statewide CVR report holds 1.3 million CVR objects; building it as one Python structure (or
one dict per ballot) and calling ``json.dump`` would hold all of it in memory. Instead the
document is written as its top-level members in order, each ordinary member with ``json.dumps``,
and the one :class:`Streamed` member from an iterator of chunks, each chunk a list of JSON texts
(one array item each), produced by the caller from a chunk of ballot rows. Layout: one top-level
member per line, one streamed item per line, compact separators, ASCII only (``\\uXXXX``
escapes), so the bytes depend only on the data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any


def dumps(value: Any) -> str:
    """Compact, ASCII-only JSON of one value (the house style of every streamed document)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def jstr(text: str) -> str:
    """A JSON string literal."""
    return json.dumps(text, ensure_ascii=True)


class Streamed:
    """A JSON array member written item by item: ``chunks`` yields lists of item JSON texts."""

    def __init__(self, chunks: Iterable[list[str]]):
        self.chunks = chunks


def write_document(fh: IO[str], members: list[tuple[str, Any]]) -> int:
    """Write ``{member: value, ...}`` to ``fh``; returns the number of streamed array items."""
    count = 0
    fh.write("{\n")
    for i, (key, value) in enumerate(members):
        sep = ",\n" if i < len(members) - 1 else "\n"
        if isinstance(value, Streamed):
            fh.write(f"{jstr(key)}:[")
            first = True
            for chunk in value.chunks:
                if not chunk:
                    continue
                fh.write(("\n" if first else ",\n") + ",\n".join(chunk))
                first = False
                count += len(chunk)
            fh.write("]" + sep if first else "\n]" + sep)
        else:
            fh.write(f"{jstr(key)}:{dumps(value)}{sep}")
    fh.write("}\n")
    return count
