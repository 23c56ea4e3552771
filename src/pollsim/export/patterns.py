"""The text of many ballot rows, built once per distinct row and contest.

A CVR export writes the same few contest records over and over: statewide, 1.3 million ballots
share a few hundred distinct rows. :class:`RowTexts` turns a chunk of ballot rows into one text per
distinct (row, ballot style) (``np.unique`` over the rows as bytes) and builds each from per-contest
pieces cached by the contest's marks, so the work per ballot is one index and one string format.
Memory stays bounded whatever the data: the row texts live for one chunk, and the piece cache
(tiny for real ballots: a contest has few mark patterns) is emptied if it ever grows past
``limit`` entries.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pollsim.election.definition import Contest, Election


class RowTexts:
    """Per-chunk texts of ballot rows: ``piece(contest, marks, on_style)`` gives a contest's text
    (or None to leave the contest out), ``join(pieces)`` the row's."""

    def __init__(
        self,
        election: Election,
        piece: Callable[[Contest, list[int], bool], str | None],
        join: Callable[[list[str]], str],
        limit: int = 100_000,
    ):
        self.election = election
        self.piece = piece
        self.join = join
        self.limit = limit
        self.style_contests = [set(s.contests) for s in election.ballot_styles]
        self.cache: dict[tuple[int, bytes, bool], str | None] = {}

    def chunk(self, rows: np.ndarray, styles: np.ndarray) -> tuple[list[str], list[int]]:
        """``(texts, index)``: the text of row *i* (ballot style index ``styles[i]``) is ``texts[index[i]]``."""
        el = self.election
        k, width = rows.shape
        if k == 0:
            return [], []
        n_styles = len(el.ballot_styles)
        flat = np.ascontiguousarray(rows).view(np.dtype((np.void, width))).ravel()
        patterns, inverse = np.unique(flat, return_inverse=True)
        unique_rows = np.frombuffer(patterns.tobytes(), np.uint8).reshape(-1, width)
        combo = inverse.ravel().astype(np.int64) * n_styles + np.asarray(styles, np.int64)
        uniq, where = np.unique(combo, return_inverse=True)
        if len(self.cache) > self.limit:
            self.cache.clear()
        cache, piece = self.cache, self.piece
        slices = [(ci, c, el.contest_slices[c.id]) for ci, c in enumerate(el.contests)]
        texts = []
        for u in uniq.tolist():
            p, s = divmod(u, n_styles)
            row = unique_rows[p]
            on_style = self.style_contests[s]
            parts = []
            for ci, c, sl in slices:
                block = row[sl]
                key = (ci, block.tobytes(), c.id in on_style)
                if key in cache:
                    text = cache[key]
                else:
                    text = cache[key] = piece(c, block.tolist(), key[2])
                if text is not None:
                    parts.append(text)
            texts.append(self.join(parts))
        return texts, where.ravel().tolist()
