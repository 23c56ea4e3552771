"""Contests, choices and ballot styles, and the one column layout every ballot matrix shares.

A ballot is stored as one row of a ``uint8`` matrix with one column per choice (1 = marked).
The columns are every contest's choices in the order the election definition lists them; a
contest with write-ins has a last column ``write-in``; a yes/no measure has the two columns
``yes`` and ``no``. :class:`Election` tells which columns belong to which contest
(:attr:`Election.contest_slices`), so every stage (devices, tabulation, audits, exports) reads
the same matrix the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice in a contest: a candidate, a write-in line, or a measure's yes/no."""

    id: str
    name: str
    party: str = ""


@dataclass(frozen=True, slots=True)
class Contest:
    """A candidate contest (vote for ``vote_for``) or a yes/no measure (vote for 1)."""

    id: str
    title: str
    kind: str  # "candidate" or "measure"
    vote_for: int
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class BallotStyle:
    """The set of contests one group of precincts sees on its ballot."""

    id: str
    contests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """What one column of a ballot matrix means."""

    index: int
    contest: str
    choice: str


@dataclass(frozen=True)
class Election:
    """An election definition. Immutable, hashable by content (:attr:`definition_hash`)."""

    id: str
    name: str
    date: str  # ISO date of election day
    contests: tuple[Contest, ...]
    ballot_styles: tuple[BallotStyle, ...]
    _by_id: dict[str, Contest] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {c.id: c for c in self.contests})

    def contest(self, contest_id: str) -> Contest:
        return self._by_id[contest_id]

    def ballot_style(self, style_id: str) -> BallotStyle:
        for style in self.ballot_styles:
            if style.id == style_id:
                return style
        raise KeyError(style_id)

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """Every column of a ballot matrix, in order."""
        cols: list[Column] = []
        for contest in self.contests:
            for choice in contest.choices:
                cols.append(Column(len(cols), contest.id, choice.id))
        return tuple(cols)

    @property
    def width(self) -> int:
        """Number of columns of a ballot matrix."""
        return len(self.columns)

    @cached_property
    def contest_slices(self) -> dict[str, slice]:
        """The columns of each contest, as a slice of a ballot row."""
        out, start = {}, 0
        for contest in self.contests:
            out[contest.id] = slice(start, start + len(contest.choices))
            start += len(contest.choices)
        return out

    def column_of(self, contest_id: str, choice_id: str) -> int:
        sl = self.contest_slices[contest_id]
        for i, choice in enumerate(self.contest(contest_id).choices):
            if choice.id == choice_id:
                return sl.start + i
        raise KeyError(f"{contest_id}/{choice_id}")

    def to_dict(self) -> dict:
        """The canonical form that is hashed and loaded into devices."""
        return {
            "id": self.id,
            "name": self.name,
            "date": self.date,
            "contests": [
                {
                    "id": c.id,
                    "title": c.title,
                    "kind": c.kind,
                    "vote_for": c.vote_for,
                    "choices": [{"id": ch.id, "name": ch.name, "party": ch.party} for ch in c.choices],
                }
                for c in self.contests
            ],
            "ballot_styles": [{"id": s.id, "contests": list(s.contests)} for s in self.ballot_styles],
        }

    @cached_property
    def definition_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @cached_property
    def definition_hash(self) -> str:
        """SHA-256 (hex) of the canonical definition: what every tape, log and payload carries."""
        return hashlib.sha256(self.definition_bytes).hexdigest()

    @classmethod
    def from_dict(cls, d: dict) -> Election:
        return cls(
            id=d["id"],
            name=d["name"],
            date=d["date"],
            contests=tuple(
                Contest(
                    id=c["id"],
                    title=c["title"],
                    kind=c["kind"],
                    vote_for=c["vote_for"],
                    choices=tuple(Choice(ch["id"], ch["name"], ch.get("party", "")) for ch in c["choices"]),
                )
                for c in d["contests"]
            ),
            ballot_styles=tuple(BallotStyle(s["id"], tuple(s["contests"])) for s in d["ballot_styles"]),
        )
