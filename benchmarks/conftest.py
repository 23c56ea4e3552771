"""Benchmarks share the test suite's synthetic-data builders (``tests.audit.synthetic``).

``python -m pytest`` (what ``make bench`` runs) puts the repository root on ``sys.path``; the
``.venv/bin/pytest benchmarks/...`` commands in docs/performance.md do not, so it is added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
