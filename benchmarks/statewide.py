"""Statewide figures of issue 12: `pollsim run` on 1 and 2 workers, the day's parallel efficiency, a Dask curve.

    .venv/bin/python benchmarks/statewide.py            # about 5-10 minutes on 2 cores (make bench-statewide)
    .venv/bin/python benchmarks/statewide.py --quick    # Adams County and 100 precincts: a minute

1. ``pollsim run SCENARIO --seed 1 --quiet --out DIR`` (default ms-2020-general) as a subprocess with
   ``--workers 1`` then ``--workers 2``: wall time, user+sys CPU of the whole tree (``wait4``), the
   peak resident memory (VmHWM of ``/proc/PID/status``, sampled every 0.25 s) of the parent and of
   each worker, the parent's own CPU and the workers' CPU (``/proc/PID/stat``); then ``cmp`` of every
   file of the two run directories (the npz files and summary.json first).
2. The day stage alone, in this process through pollsim's API (``run_election_day(scenario, 3,
   executor=...)``, DAY_SCENARIO default ms-2024-general): no executor, then the project's 2-worker
   process pool (``pollsim.scale.executor(2)``): efficiency T1 / (2 T2). The parent-side serial work of
   a pool run is measured apart: pickling and unpickling the precincts' results, chunk by chunk.
3. The same day on a Dask ``LocalCluster`` (processes, one thread per worker) of 1, 2 and 4 workers:
   efficiency T1 / (n Tn). Workers beyond the machine's cores oversubscribe it (said in the table).
4. Amdahl's law with the measured serial part: T(n) = S + W / n, S = the parent's own CPU time in the
   2-worker run (loading, absentee stage, unpickling results, night, canvass, writing), W = the
   workers' CPU time; the prediction for 4, 16 and 64 cores.

Every table is printed as markdown and written to ``runs/bench/statewide.md`` (``--md``), the raw
figures to ``runs/bench/statewide.json``, so docs/performance.md can be updated from one re-run.
The load average is given before each measurement: on a shared machine compare CPU times first.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
POLLSIM = str(Path(sys.executable).with_name("pollsim"))


# --- the process tree, from /proc ------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, own user+sys CPU seconds) of ``pid``; None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _hwm_kb(pid: int) -> int | None:
    """Peak resident set (VmHWM, kB) of ``pid``; None when gone or a zombie."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "parent"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if "resource_tracker" in cmd:
        return "tracker"
    if "spawn_main" in cmd or "forkserver" in cmd:
        return "worker"
    return "other"


def descendants(root: int) -> list[int]:
    """``root``'s descendants now alive (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class TreeSampler(threading.Thread):
    """Samples the peak memory (VmHWM) and CPU time of ``root`` and its descendants every ``interval`` s."""

    def __init__(self, root: int, interval: float = 0.25, include_root: bool = True) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.include_root = root, interval, include_root
        self.peak_kb: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.cpu0: dict[int, float] = {}  # CPU time when first seen
        self.role: dict[int, str] = {}
        self.first_seen: dict[int, float] = {}
        self.last_seen: dict[int, float] = {}
        self.history: list[tuple[float, float, float]] = []  # (time, root's CPU, the workers' CPU)
        self.own_cpu = 0.0
        self._halt = threading.Event()

    def sample(self) -> None:
        now = time.perf_counter()
        for pid in ([self.root] if self.include_root else []) + descendants(self.root):
            hwm, st = _hwm_kb(pid), _stat(pid)
            if pid not in self.role:
                self.role[pid] = _role(pid, self.root)
                self.first_seen[pid] = now
            if hwm is not None:
                self.peak_kb[pid] = max(hwm, self.peak_kb.get(pid, 0))
                self.last_seen[pid] = now
            if st is not None:
                self.cpu[pid] = max(st[1], self.cpu.get(pid, 0.0))
                self.cpu0.setdefault(pid, st[1])
        self.history.append((now, self.cpu.get(self.root, 0.0), sum(c for q, c in self.cpu.items() if self.role.get(q) == "worker")))

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)
        self.own_cpu = time.thread_time()  # what sampling cost this process (taken off in-process figures)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def of(self, role: str) -> list[int]:
        return sorted(p for p, r in self.role.items() if r == role and p in self.peak_kb)


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.25) -> dict:
    """Run ``cmd``; wall, CPU (wait4: the process and every waited-for descendant), peaks per process."""
    before = load()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid, interval)
    sampler.start()
    got: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, f=f: got.__setitem__(n, f.read()), daemon=True) for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:  # the pipes must not fill up while we wait4
        t.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    sampler.stop()
    out, err = got.get("out", b""), got.get("err", b"")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {proc.returncode}\n{err.decode(errors='replace')}")
    workers = sampler.of("worker")
    # the parent's own CPU: wait4's total less its descendants' (idle when they exit, so sampled well)
    parent_cpu = max(sampler.cpu.get(proc.pid, 0.0), ru.ru_utime + ru.ru_stime - sum(c for q, c in sampler.cpu.items() if q != proc.pid))
    return {
        "phases": phases(sampler.history, parent_cpu),
        "cmd": " ".join(cmd),
        "load_before": before,
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "maxrss_wait4_mb": ru.ru_maxrss / 1024,  # the largest of the process and its waited-for children
        "parent_peak_mb": sampler.peak_kb.get(proc.pid, 0) / 1024,
        "parent_cpu_s": parent_cpu,
        "worker_peak_mb": [sampler.peak_kb[p] / 1024 for p in workers],
        "worker_cpu_s": [sampler.cpu.get(p, 0.0) for p in workers],
        "stdout": out.decode(errors="replace"),
    }


def phases(history: list[tuple[float, float, float]], parent_cpu: float) -> dict[str, float]:
    """The parent's CPU before the workers start computing, while they do, and after they stop.

    The day is the span over which the workers' CPU time grows by more than a sampling step's
    noise; before it: loading, the absentee stage, starting the workers; after it: the night, the
    canvass and the end of the writing. Without workers everything is "before".
    """
    if not history:
        return {"pre": 0.0, "day": 0.0, "post": 0.0, "day_wall": 0.0}
    start = next((i for i, h in enumerate(history) if h[2] > 0.0), None)
    if start is None:
        return {"pre": parent_cpu, "day": 0.0, "post": 0.0, "day_wall": 0.0}
    total = history[-1][2]
    end = next(i for i, h in enumerate(history) if h[2] >= total - 0.05)
    return {"pre": history[start][1], "day": history[end][1] - history[start][1], "post": parent_cpu - history[end][1],
            "day_wall": history[end][0] - history[start][0]}


def compare_dirs(a: Path, b: Path) -> tuple[int, list[str]]:
    """(files compared, relative paths that differ or exist on one side only), byte by byte."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    diff = sorted(str(p) for p in files_a ^ files_b)
    diff += sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return len(files_a | files_b), diff


def mb(x: float) -> str:
    return f"{x:,.0f} MB"


# --- 1. pollsim run on 1 and 2 workers -------------------------------------------------------------


def statewide_runs(scenario: str, seed: int, tmp: Path) -> tuple[list[str], dict]:
    runs = {}
    for w in (1, 2):
        out = tmp / f"W{w}"
        cmd = [POLLSIM, "run", scenario, "--seed", str(seed), "--quiet", "--workers", str(w), "--out", str(out)]
        print(f"[{time.strftime('%H:%M:%S')}] {' '.join(cmd[1:])} (load {load()})", flush=True)
        runs[w] = measure(cmd)
        print(f"  {runs[w]['wall_s']:.1f} s wall, {runs[w]['cpu_s']:.1f} s CPU", flush=True)
    n, diff = compare_dirs(tmp / "W1", tmp / "W2")
    key = sorted(str(p.relative_to(tmp / "W1")) for p in (tmp / "W1").iterdir() if p.suffix == ".npz" or p.name == "summary.json")
    lines = [
        f"`pollsim run {scenario} --seed {seed} --quiet --workers W --out DIR` ({os.cpu_count()} cores):",
        "",
        "| workers | load avg before (1/5/15 min) | wall | CPU user+sys (all processes) | parent's own CPU | workers' CPU | peak RSS parent | peak RSS each worker | wait4 ru_maxrss (largest process) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w, r in runs.items():
        wk = " / ".join(mb(x) for x in r["worker_peak_mb"]) or "-"
        wc = " + ".join(f"{x:.1f}" for x in r["worker_cpu_s"]) or "-"
        lines.append(f"| {w} | {r['load_before']} | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s | {r['parent_cpu_s']:.1f} s | {wc} s | {mb(r['parent_peak_mb'])} | {wk} | {mb(r['maxrss_wait4_mb'])} |")
    lines += ["", f"Speed-up 1 -> 2 workers (wall): {runs[1]['wall_s'] / runs[2]['wall_s']:.2f}x; efficiency T1 / (2 T2) = {runs[1]['wall_s'] / (2 * runs[2]['wall_s']):.0%}."]
    lines.append(f"`cmp` of the two run directories: {n} files, " + ("all identical" if not diff else f"{len(diff)} differ: {', '.join(diff[:10])}") + f" (among them {', '.join(key)}).")
    return lines, {"runs": runs, "files": n, "differ": diff}


def amdahl_lines(r1: dict, r2: dict, label: str) -> tuple[list[str], dict]:
    """Amdahl's law from CPU times: the 1-worker run's CPU, and the 2-worker run's split between parent and workers."""
    ph = r2["phases"]
    c1, w = r1["cpu_s"], sum(r2["worker_cpu_s"])
    serial, overlap = ph["pre"] + ph["post"], ph["day"]
    cores = os.cpu_count() or 1

    def t(n: int, c: int) -> float:  # n workers on c cores, the parent's in-day work on top of theirs
        return serial + max(w / n, overlap, (w + overlap) / min(c, n + 1))

    lines = [
        f"Amdahl's law with the measured serial part, from CPU times (less load-sensitive than wall time; {label}): the 1-worker run takes C1 = {c1:.1f} s of CPU.",
        f"In the 2-worker run the parent spends S = {serial:.1f} s alone (before the workers compute: {ph['pre']:.1f} s, loading, absentee stage, "
        f"starting the workers; after: {ph['post']:.1f} s, night, canvass, writing) and D = {overlap:.1f} s while the workers compute "
        f"(receiving and unpickling results, the run directory's share written during the day); the workers spend W = {w:.1f} s "
        f"(including starting Python and importing pollsim). Predicted wall time with n workers on c cores:",
        "",
        "    T(n) = S + max(W / n, D, (W + D) / min(c, n + 1)),   efficiency E(n) = C1 / (n T(n))",
        "",
        "| workers n | cores c | predicted T(n) | efficiency | speed-up C1 / T(n) |",
        "|---|---|---|---|---|",
    ]
    rows = {}
    for n, c in ((1, 1), (2, cores), (2, 3), (4, cores), (4, 5), (16, 17), (64, 65)):
        tn = c1 if n == 1 else t(n, c)
        rows[f"{n}/{c}"] = tn
        lines.append(f"| {n} | {c}{' (this machine)' if c == cores and n > 1 else ''} | {tn:.1f} s | {c1 / (n * tn):.0%} | {c1 / tn:.2f}x |")
    limit = c1 / (serial + overlap) if serial + overlap else float("inf")
    lines += ["", f"Serial fraction S / C1 = {serial / c1:.1%}; however many workers, T >= S + D = {serial + overlap:.1f} s, a speed-up of at most {limit:.1f}x."]
    return lines, {"C1": c1, "S": serial, "D": overlap, "W": w, "phases": ph, "predicted": rows}


# --- 2. and 3. the day stage in this process --------------------------------------------------------


def _reset_peak() -> None:
    try:  # Linux >= 4.0: "5" resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def day_stage(scenario, seed: int, ex, label: str) -> dict:
    from pollsim.precinct.election_day import run_election_day

    _reset_peak()
    before = load()
    sampler = TreeSampler(os.getpid(), include_root=False)
    sampler.start()
    c0, t0 = time.process_time(), time.perf_counter()
    result = run_election_day(scenario, seed, executor=ex)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sampler.stop()
    cpu -= sampler.own_cpu
    workers = sampler.of("worker")
    voters = sum(len(p.voters) for p in result.precincts)
    print(f"  {label}: {wall:.1f} s wall, parent CPU {cpu:.1f} s (load before {before})", flush=True)
    return {
        "label": label,
        "load_before": before,
        "wall_s": wall,
        "parent_cpu_s": cpu,
        "parent_peak_mb": (_hwm_kb(os.getpid()) or 0) / 1024,
        "worker_cpu_s": [sampler.cpu.get(p, 0.0) - sampler.cpu0.get(p, 0.0) for p in workers],
        "worker_peak_mb": [sampler.peak_kb[p] / 1024 for p in workers],
        "voters": voters,
        "result": result,
    }


def unpickle_cost(result) -> dict:
    """What a pool run's parent does per result: unpickle each 25-precinct chunk (and what a worker pays to pickle it)."""
    from pollsim.precinct.election_day import CHUNK

    ps = result.precincts
    size = dump = undump = 0.0
    for start in range(0, len(ps), CHUNK):
        t0 = time.process_time()
        blob = pickle.dumps(ps[start : start + CHUNK], protocol=pickle.HIGHEST_PROTOCOL)
        t1 = time.process_time()
        pickle.loads(blob)
        undump += time.process_time() - t1
        dump += t1 - t0
        size += len(blob)
    return {"bytes": size, "pickle_cpu_s": dump, "unpickle_cpu_s": undump}


def day_efficiency(scenario, seed: int) -> tuple[list[str], dict]:
    from pollsim.scale import executor

    one = day_stage(scenario, seed, None, "day, in-process")
    cost = unpickle_cost(one.pop("result"))
    with executor(2) as ex:
        two = day_stage(scenario, seed, ex, "day, 2-worker process pool")
    two.pop("result")
    eff = one["wall_s"] / (2 * two["wall_s"])
    lines = [
        f"`run_election_day({scenario.scenario}, seed {seed}, executor=...)` in one Python process ({len(scenario.precincts):,} precincts, {one['voters']:,} voters):",
        "",
        "| executor | load avg before | wall | parent CPU | workers' CPU | peak RSS parent | peak RSS each worker |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in (one, two):
        wc = " + ".join(f"{x:.1f}" for x in r["worker_cpu_s"]) or "-"
        wk = " / ".join(mb(x) for x in r["worker_peak_mb"]) or "-"
        lines.append(f"| {r['label']} | {r['load_before']} | {r['wall_s']:.1f} s | {r['parent_cpu_s']:.1f} s | {wc} s | {mb(r['parent_peak_mb'])} | {wk} |")
    lines += [
        "",
        f"Parallel efficiency of the day, T1 / (2 T2) = {one['wall_s']:.1f} / (2 x {two['wall_s']:.1f}) = **{eff:.0%}**.",
        f"Results sent back to the parent: {cost['bytes'] / 2**20:,.0f} MB pickled; unpickling them costs {cost['unpickle_cpu_s']:.1f} s of the parent's CPU "
        f"(pickling {cost['pickle_cpu_s']:.1f} s, spread over the workers): the serial part of the day on a pool.",
    ]
    return lines, {"serial": one, "pool2": two, "efficiency": eff, "transfer": cost}


def warm_up(ex) -> None:
    """Import pollsim on every worker of a Dask executor, as a long-lived cluster would have done."""
    client = getattr(ex, "_client", None)
    if client is not None:
        client.run(importlib.import_module, "pollsim.precinct.election_day")


def dask_curve(scenario, seed: int, counts: tuple[int, ...]) -> tuple[list[str], dict]:
    from pollsim.scale import executor

    cores = os.cpu_count() or 1
    rows = {}
    for n in counts:
        t0 = time.perf_counter()
        with executor(n, "dask") as ex:
            warm_up(ex)
            startup = time.perf_counter() - t0
            r = day_stage(scenario, seed, ex, f"dask LocalCluster, {n} worker(s)")
        r.pop("result")
        r["startup_s"] = startup
        rows[n] = r
    t1 = rows[counts[0]]["wall_s"] * counts[0]
    lines = [
        f"Dask `LocalCluster(n_workers=n, threads_per_worker=1, processes=True)` (`pollsim.scale.executor(n, 'dask')`), the same day; "
        f"time from the first task to the last result; the cluster's start-up and pollsim's import on each worker are apart (a long-lived cluster's); {cores} cores:",
        "",
        "| workers n | load avg before | cluster start-up | wall Tn | efficiency T1 / (n Tn) | client CPU | workers' CPU (sum) | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, r in rows.items():
        note = f"oversubscribed: {n} workers on {cores} cores" if n > cores else ""
        lines.append(f"| {n} | {r['load_before']} | {r['startup_s']:.1f} s | {r['wall_s']:.1f} s | {t1 / (n * r['wall_s']):.0%} | {r['parent_cpu_s']:.1f} s | {sum(r['worker_cpu_s']):.1f} s | {note} |")
    return lines, {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="Adams County for the runs, the first 100 precincts for the day (a minute)")
    ap.add_argument("--scenario", default=None, help="scenario of the `pollsim run` measurements (default scenarios/ms-2020-general.yaml)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--day-scenario", default="scenarios/ms-2024-general.yaml", help="scenario of the day-stage measurements")
    ap.add_argument("--day-precincts", type=int, default=None, help="only the first K precincts of the day scenario")
    ap.add_argument("--dask", default="1,2,4", help="Dask worker counts ('' to skip)")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out: runs, day, dask")
    ap.add_argument("--md", default="runs/bench/statewide.md", help="where to write the markdown tables")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    scenario_path = args.scenario or ("scenarios/ms-2020-adams.yaml" if args.quick else "scenarios/ms-2020-general.yaml")
    k = args.day_precincts or (100 if args.quick else None)
    md = ROOT / args.md
    md.parent.mkdir(parents=True, exist_ok=True)
    head = [f"<!-- benchmarks/statewide.py {' '.join(argv if argv is not None else sys.argv[1:])} at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} cores -->", ""]
    report: list[str] = head
    raw: dict = {}

    def emit(lines: list[str]) -> None:
        report.extend([*lines, ""])
        print("\n".join(lines) + "\n", flush=True)
        md.write_text("\n".join(report))

    if "runs" not in skip:
        tmp = Path(tempfile.mkdtemp(prefix="pollsim-statewide-"))
        try:
            lines, raw["runs"] = statewide_runs(scenario_path, args.seed, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        emit(lines)
        lines, raw["amdahl_run"] = amdahl_lines(raw["runs"]["runs"][1], raw["runs"]["runs"][2], "`pollsim run` on 1 and 2 workers")
        emit(lines)
    if "day" not in skip or ("dask" not in skip and args.dask):
        from pollsim.scenario import load_scenario

        scenario = load_scenario(ROOT / args.day_scenario)
        if k:
            scenario = scenario.model_copy(update={"precincts": scenario.precincts[:k]})
        if "day" not in skip:
            print(f"[{time.strftime('%H:%M:%S')}] day stage of {args.day_scenario} ({len(scenario.precincts)} precincts)", flush=True)
            lines, raw["day"] = day_efficiency(scenario, 3)
            emit(lines)
        if "dask" not in skip and args.dask:
            print(f"[{time.strftime('%H:%M:%S')}] Dask curve", flush=True)
            lines, raw["dask"] = dask_curve(scenario, 3, tuple(int(x) for x in args.dask.split(",")))
            emit(lines)
    md.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
    print(f"tables written to {md.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
