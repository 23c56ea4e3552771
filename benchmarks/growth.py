"""Growth of a `pollsim run` with the number of precincts and with the voters per precinct (issue 12).

    .venv/bin/python benchmarks/growth.py           # about 5 minutes on an idle 2-core machine
    .venv/bin/python benchmarks/growth.py --quick   # 20 seconds: the plumbing

Every point is one ``pollsim run --seed 1 --quiet --workers 1 --out DIR`` in a child process (the
CLI's own ``main``, given the scenario below instead of a file), measured from outside: wall time,
user+sys CPU and peak resident memory of the child (``wait4``'s rusage).

- Against precincts: 19, 82, 200, 500, 1,000 and 1,765 precincts of ms-2020-general (the 2020
  presidential replay with absentee voting and the canvass), taken evenly along the scenario's list
  (every county's share, small and large precincts alike), so voters grow with precincts.
- Against voters per precinct: 40 precincts of the same scenario (the same evenly spread ones,
  DRE and paper counties alike) with the replay dropped and each precinct's registered voters set so
  that 250, 500, 1,000, 2,000 or 4,000 voters come on election day; the equipment is sized from the
  expected ballots by the generator's rules (``mississippi.ballots_per_dre`` etc.), the absentee
  ballots scale with the voters.

A least-squares fit over all points, ``y = a + b x precincts + c x voters`` for CPU, wall time and
peak memory, gives the figures to predict another state's run. The tables (markdown) go to
``runs/bench/growth.md`` (``--md``), the plot to ``docs/img/growth.png`` (``--png``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "ms-2020-general.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from statewide import load, measure  # noqa: E402


def spread(n: int, k: int) -> list[int]:
    """``k`` indices evenly along ``range(n)`` (all of them when k >= n)."""
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(k, n))})


def precinct_subset(k: int):
    from pollsim.scenario import load_scenario

    s = load_scenario(SCENARIO)
    return s.model_copy(update={"precincts": [s.precincts[i] for i in spread(len(s.precincts), k)]})


def voters_scenario(per_precinct: int, precincts: int):
    """``precincts`` precincts of ms-2020-general, no replay, ``per_precinct`` expected election-day voters each."""
    from pollsim.scenario.generate import Mississippi, mississippi_absentee, mississippi_precincts
    from pollsim.scenario.loader import read_mapping
    from pollsim.scenario.models import Scenario

    raw = dict(read_mapping(SCENARIO).data)
    raw["mississippi"] = {**raw["mississippi"], "replay": None}
    ms = Mississippi.model_validate(raw["mississippi"])
    generated = mississippi_precincts(ms, raw)
    out = []
    for i in spread(len(generated), precincts):
        p = dict(generated[i])
        expected_before = max(1.0, p["registered_voters"] * p["turnout"])
        scale = per_precinct / expected_before
        p["registered_voters"] = int(math.ceil(per_precinct / p["turnout"]))
        for key in ("absentee_ballots", "uocava_ballots"):
            if key in p:
                p[key] = int(round(p[key] * scale))
        eq = dict(p["equipment"])
        units = lambda per, least: max(least, math.ceil(per_precinct / per))  # noqa: E731  (generate._units)
        eq["pollbook_stations"] = units(ms.ballots_per_pollbook_station, 1)
        if eq["kind"] == "dre":
            eq["dre_units"] = units(ms.ballots_per_dre, 1)
        else:
            eq["marking_booths"] = units(ms.ballots_per_booth, 2)
            eq["scanners"] = units(ms.ballots_per_scanner, 1)
            eq["ballot_stock"] = int(math.ceil(max(p["registered_voters"], per_precinct) * 1.05))
        p["equipment"] = eq
        p["id"] = f"{p['id']}-x{per_precinct}"
        out.append(p)
    data = {**raw, "precincts": out}
    if raw.get("absentee") is not None:
        data["absentee"] = mississippi_absentee(ms, raw["absentee"])
    return Scenario.model_validate(data)


def child(pickled: str, out: str) -> int:
    """Run ``pollsim run`` on the pickled scenario (the CLI, its loader handed this scenario)."""
    import pollsim.scenario
    from pollsim.cli import main

    scenario = pickle.loads(Path(pickled).read_bytes())
    pollsim.scenario.load_scenario = lambda _path: scenario  # verbs.run imports it at call time
    c0, t0 = time.process_time(), time.perf_counter()
    rc = main(["run", "growth.yaml", "--seed", "1", "--quiet", "--workers", "1", "--out", out])
    summary = json.loads((Path(out) / "summary.json").read_text())
    print(json.dumps({"run_wall_s": time.perf_counter() - t0, "run_cpu_s": time.process_time() - c0, "voters": summary["voters"], "precincts": summary["precincts"]}))
    return rc


def point(scenario, tmp: Path, label: str) -> dict:
    pk = tmp / "scenario.pickle"
    pk.write_bytes(pickle.dumps(scenario))
    out = tmp / "run"
    shutil.rmtree(out, ignore_errors=True)
    print(f"[{time.strftime('%H:%M:%S')}] {label} (load {load()})", flush=True)
    r = measure([sys.executable, str(Path(__file__).resolve()), "--child", str(pk), str(out)])
    r.update(json.loads(r.pop("stdout").strip().splitlines()[-1]))
    r["label"] = label
    print(f"  {r['precincts']:,} precincts, {r['voters']:,} voters: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['maxrss_wait4_mb']:.0f} MB", flush=True)
    shutil.rmtree(out, ignore_errors=True)
    return r


def fit(rows: list[dict], key: str) -> np.ndarray:
    """Least squares ``key = a + b precincts + c voters``."""
    x = np.array([[1.0, r["precincts"], r["voters"]] for r in rows])
    y = np.array([r[key] for r in rows])
    return np.linalg.lstsq(x, y, rcond=None)[0]


def predict(coef: np.ndarray, precincts: float, voters: float) -> float:
    return float(coef[0] + coef[1] * precincts + coef[2] * voters)


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| series | precincts | voters | voters / precinct | load avg before (1/5/15 min) | wall | CPU user+sys | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['series']} | {r['precincts']:,} | {r['voters']:,} | {r['voters'] / r['precincts']:,.0f} | {r['load_before']} | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s | {r['maxrss_wait4_mb']:,.0f} MB |")
    return lines


def plot(rows: list[dict], coefs: dict[str, np.ndarray], png: Path, when: str, vp: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for col, (series, xkey, xlabel) in enumerate((("precincts", "precincts", "precincts (ms-2020-general, evenly spread)"), ("voters per precinct", "per", f"election-day voters per precinct ({vp} precincts)"))):
        mine = sorted((r for r in rows if r["series"] == series), key=lambda r: r[xkey])
        if not mine:
            continue
        x = [r[xkey] for r in mine]
        t_ax, m_ax = axes[0][col], axes[1][col]
        t_ax.plot(x, [r["wall_s"] for r in mine], "o", label="wall (measured)")
        t_ax.plot(x, [r["cpu_s"] for r in mine], "s", label="CPU user+sys (measured)")
        t_ax.plot(x, [predict(coefs["cpu_s"], r["precincts"], r["voters"]) for r in mine], "-", label="CPU fit a + b P + c V")
        t_ax.set_ylabel("seconds (1 worker)")
        m_ax.plot(x, [r["maxrss_wait4_mb"] for r in mine], "o", label="peak RSS (measured)")
        m_ax.plot(x, [predict(coefs["maxrss_wait4_mb"], r["precincts"], r["voters"]) for r in mine], "-", label="fit a + b P + c V")
        m_ax.set_ylabel("MB")
        for ax in (t_ax, m_ax):
            ax.set_xlabel(xlabel)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        if series == "precincts":
            top = t_ax.secondary_xaxis("top")
            top.set_xticks(x, [f"{r['voters'] / 1e6:.2f}M" if r["voters"] >= 1e5 else "" for r in mine], fontsize=7)
            top.set_xlabel("voters", fontsize=8)
    loads = [float(r["load_before"].split(" / ")[0]) for r in rows]
    fig.suptitle(f"pollsim run --workers 1: time and peak memory (benchmarks/growth.py, {when}, load average {min(loads):.1f}-{max(loads):.1f})", fontsize=10)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="19, 50 and 100 precincts; 10 precincts of 250 and 1,000 voters")
    ap.add_argument("--precincts", default=None, help="comma-separated precinct counts (default 19,82,200,500,1000,1765)")
    ap.add_argument("--voters", default=None, help="comma-separated voters per precinct (default 250,500,1000,2000,4000)")
    ap.add_argument("--voters-precincts", type=int, default=None, help="precincts of the voters-per-precinct series (default 40)")
    ap.add_argument("--md", default="runs/bench/growth.md")
    ap.add_argument("--png", default="docs/img/growth.png")
    ap.add_argument("--child", nargs=2, metavar=("SCENARIO_PICKLE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(*args.child)
    ks = [int(x) for x in (args.precincts or ("19,50,100" if args.quick else "19,82,200,500,1000,1765")).split(",") if x]
    vs = [int(x) for x in (args.voters or ("250,1000" if args.quick else "250,500,1000,2000,4000")).split(",") if x]
    vp = args.voters_precincts or (10 if args.quick else 40)
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="pollsim-growth-"))
    try:
        for k in ks:
            r = point(precinct_subset(k), tmp, f"{k} precincts")
            rows.append({**r, "series": "precincts"})
        for v in vs:
            r = point(voters_scenario(v, vp), tmp, f"{vp} precincts x {v} voters")
            rows.append({**r, "series": "voters per precinct", "per": v})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    coefs = {key: fit(rows, key) for key in ("cpu_s", "wall_s", "maxrss_wait4_mb")}
    lines = [
        f"<!-- benchmarks/growth.py {' '.join(argv if argv is not None else sys.argv[1:])} at {when}, {os.cpu_count()} cores -->",
        "",
        "`pollsim run --seed 1 --quiet --workers 1` (benchmarks/growth.py), one child process per row:",
        "",
        *table(rows),
        "",
        "Least-squares fit over all rows, y = a + b x precincts + c x voters:",
        "",
        "| quantity | a (constant) | b (per precinct) | c (per 1,000 voters) | largest misfit |",
        "|---|---|---|---|---|",
    ]
    for key, name, unit in (("cpu_s", "CPU user+sys", "s"), ("wall_s", "wall (an idle machine's only)", "s"), ("maxrss_wait4_mb", "peak RSS", "MB")):
        a, b, c = coefs[key]
        worst = max(abs(predict(coefs[key], r["precincts"], r["voters"]) - r[key]) / r[key] for r in rows)
        per_p = f"{b * 1000:.1f} ms" if unit == "s" else f"{b * 1024:.0f} kB"
        lines.append(f"| {name} | {a:.2f} {unit} | {per_p} | {c * 1000:.2f} {unit} | {worst:.0%} |")
    big = rows[0] if not rows else max(rows, key=lambda r: r["voters"])
    lines += [
        "",
        f"For example {big['precincts']:,} precincts and {big['voters']:,} voters: CPU {predict(coefs['cpu_s'], big['precincts'], big['voters']):.1f} s predicted "
        f"({big['cpu_s']:.1f} s measured), peak RSS {predict(coefs['maxrss_wait4_mb'], big['precincts'], big['voters']):,.0f} MB ({big['maxrss_wait4_mb']:,.0f} MB measured).",
    ]
    md = ROOT / args.md
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text("\n".join(lines) + "\n")
    md.with_suffix(".json").write_text(json.dumps({"rows": rows, "fit": {k: v.tolist() for k, v in coefs.items()}}, indent=1))
    plot(rows, coefs, ROOT / args.png, when, vp)
    print("\n".join(lines))
    print(f"\ntables written to {args.md}, plot to {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
