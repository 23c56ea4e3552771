"""The manifest of a county's devices on their ports: which unit of which precinct is on which port.

On election night the county's read station works through every unit that came in from the
precincts (the results feed the §23-15-615 ballot accounting); it needs a list of what to read.
``pollsim serve --county`` writes that list once every port is open, and ``pollsim read
--manifest`` (or a test team's harness) works through it. It is a CSV file, one device a line,
with the header::

    port,kind,serial,device_id,unit,precinct,county

``port`` is the pty a reader opens (``/dev/pts/N``); ``kind`` the device kind as IDENTIFY gives
it (``dre``, ``scan-single``); ``serial`` and ``device_id`` the unit's serial number and its id on
the wire (IDENTIFY must give both); ``unit`` its name in the precinct (``DRE-3``); ``precinct`` and
``county`` where it served. Columns may come in any order; other columns are ignored. A manifest
that cannot be used is one line naming the file, the line and the field (docs/emulator.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from pollsim.errors import PollsimError
from pollsim.files import atomic_text, csv_text

__all__ = ["COLUMNS", "KINDS", "ManifestEntry", "ManifestError", "read_manifest", "write_manifest"]

KINDS = ("dre", "scan-single", "bmd", "electronic-poll-book")
"""Device kinds a manifest may list (IDENTIFY's names)."""


class ManifestError(PollsimError):
    """A manifest that cannot be used: one line naming the file, the line and the field."""


@dataclass(frozen=True)
class ManifestEntry:
    """One device on its port."""

    port: str
    kind: str
    serial: str
    device_id: int
    unit: str
    precinct: str
    county: str


COLUMNS = tuple(f.name for f in fields(ManifestEntry))


def write_manifest(path: Path | str, entries: Iterable[ManifestEntry]) -> None:
    """Write the manifest atomically (a reader never sees half of one)."""
    atomic_text(path, csv_text(COLUMNS, (astuple(e) for e in entries)))


def _entry(where: str, row: dict[str, str]) -> ManifestEntry:
    values = {}
    for column in COLUMNS:
        text = (row.get(column) or "").strip()
        if not text and column != "county":
            raise ManifestError(f"{where}: field {column!r} is empty")
        values[column] = text
    if values["kind"] not in KINDS:
        raise ManifestError(f"{where}: field 'kind': {values['kind']!r} is not a device kind ({', '.join(KINDS)})")
    try:
        number = int(values["device_id"])
    except ValueError:
        number = 0
    if not 1 <= number <= 65534:
        raise ManifestError(f"{where}: field 'device_id': {values['device_id']!r} is not a device id 1..65534")
    return ManifestEntry(values["port"], values["kind"], values["serial"], number, values["unit"], values["precinct"],
                         values["county"])  # fmt: skip


def read_manifest(path: Path | str) -> list[ManifestEntry]:
    """Every device the manifest lists, in its order; :class:`ManifestError` (one line naming
    the file, line and field) if it is missing, empty, or has a bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such manifest") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text; a manifest is CSV with the columns {','.join(COLUMNS)}") from None
    except OSError as error:
        raise ManifestError(f"{path}: cannot read the manifest ({error.strerror})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ManifestError(f"{path} line 1: no column {', '.join(map(repr, missing))} in the header "
                                f"(a manifest's columns: {','.join(COLUMNS)})")  # fmt: skip
        entries: list[ManifestEntry] = []
        lines: dict[str, int] = {}
        for row in reader:
            where = f"{path} line {reader.line_num}"
            if None in row:
                raise ManifestError(f"{where}: {len(header) + len(row[None])} fields, the header has {len(header)}")
            entry = _entry(where, row)
            if entry.port in lines:
                raise ManifestError(f"{where}: field 'port': {entry.port} is listed already on line {lines[entry.port]}")
            lines[entry.port] = reader.line_num
            entries.append(entry)
    except csv.Error as error:
        raise ManifestError(f"{path} line {reader.line_num}: not CSV ({error})") from None
    if not entries:
        raise ManifestError(f"{path}: lists no device")
    return entries
