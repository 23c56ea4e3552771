"""The compression level of a run directory's archives: CPU time and size at zlib levels 1 to 6.

    .venv/bin/python benchmarks/compression.py RUN            # a statewide run: about a minute
    .venv/bin/python benchmarks/compression.py RUN --rounds 3

Every array of the run's ``.npz`` files (``ballots``, ``voters``, ``eventlog``, ``absentee``,
``canvass``) is deflated at each level the way pollsim writes it (``pollsim.files.deflate``: raw
deflate, one piece per array), the levels interleaved round by round so the machine's drift falls
on all of them alike; the CPU time (``time.process_time``) of each level is the median over the
rounds, the size is the sum of the pieces. pollsim writes at ``pollsim.files.LEVEL``; the table is
what chose it (docs/performance.md, "Statewide day (issue 12)").
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from pollsim.files import LEVEL, deflate

ARCHIVES = ("ballots", "voters", "eventlog", "absentee", "canvass")


def arrays(run: Path) -> dict[str, np.ndarray]:
    out = {}
    for name in ARCHIVES:
        path = run / f"{name}.npz"
        if path.exists():
            with np.load(path) as z:
                out |= {f"{name}.{k}": z[k] for k in z.files if z[k].dtype != object and z[k].ndim}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--levels", default="1,2,3,4,6")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    data = arrays(args.run)
    raw = sum(a.nbytes for a in data.values())
    cpu: dict[int, list[float]] = {lv: [] for lv in levels}
    size: dict[int, int] = {}
    for r in range(args.rounds):
        for lv in levels if r % 2 == 0 else levels[::-1]:
            t = time.process_time()
            size[lv] = sum(len(deflate(a, lv).data) for a in data.values())
            cpu[lv].append(time.process_time() - t)
    base = min(levels, key=lambda lv: abs(lv - 6))
    print(f"{args.run}: {len(data)} arrays, {raw / 1e6:.1f} MB raw; {args.rounds} rounds; load average before {os.getloadavg()[0]:.2f}")
    print("\n| zlib level | CPU (median) | compressed | against level " + str(base) + " |")
    print("|---|---|---|---|")
    for lv in levels:
        c = statistics.median(cpu[lv])
        mark = " (pollsim's)" if lv == LEVEL else ""
        print(f"| {lv}{mark} | {c:.2f} s | {size[lv] / 1e6:.1f} MB | {c / statistics.median(cpu[base]):.2f}x CPU, {size[lv] / size[base] - 1:+.1%} size |")


if __name__ == "__main__":
    main()
