"""The whole chain, from the voter at the door to the audit: one library function.

:func:`run_election` runs the stages in their one direction, each through its front door, on
typed in-memory records:

    scenario -> absentee voting before the day (:func:`pollsim.absentee.run_absentee`; §§23-15-621 ff.),
                whose envelopes mark the pollbooks VOTED AB (:func:`pollsim.absentee.with_voted_ab`;
                drawn a chunk of precincts at a time as the chunks go to the day, and the boards'
                count runs on a thread while the day runs: it needs nothing of the day)
             -> election day (:func:`pollsim.precinct.election_day.run_election_day`)
             -> election night (:func:`pollsim.night.simulate_night`; §23-15-591 ff.)
             -> serial read-in of chosen precincts (:func:`pollsim.night.readin.serial_readin`)
             -> the canvass to certification (:func:`pollsim.canvass.run_canvass`; §23-15-573, §23-15-603)
             -> reconciliation (:func:`pollsim.reconcile.reconcile_precincts`; §23-15-615)
             -> risk-limiting audit (:func:`pollsim.audit.run_audit`; §23-15-617)

and returns an :class:`ElectionRun`. ``pollsim run`` writes it with :func:`pollsim.rundir.write_run`,
having streamed the day into the run directory's staging folder as precincts finished (``sink=``
a :class:`pollsim.rundir.DaySpool`); ``pollsim stress`` measures it night after night without
writing anything. The stages after the day need only each precinct's counts, ballot layers and the
few voters who did not cast a regular ballot, so they run the same on a streamed day.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pollsim.absentee import AbsenteeRun, draw_envelopes, run_absentee, voted_ab
from pollsim.absentee.envelopes import PrecinctEnvelopes
from pollsim.audit import RunBallots, run_audit
from pollsim.audit.ballots import COUNTED_KIND
from pollsim.audit.package import AnyAuditResult
from pollsim.canvass import CanvassResult, run_canvass
from pollsim.night import NightResult, night_seed, simulate_night
from pollsim.precinct.election_day import DaySink, ElectionDayRun, run_election_day
from pollsim.reconcile import PrecinctCounts, ReconciliationReport, flags_at_publications, reconcile_precincts
from pollsim.reconcile.totals import counts_from_results
from pollsim.scenario.models import PrecinctSpec, Scenario, build_election

__all__ = ["AuditRequest", "ElectionRun", "ballots_of", "run_election"]


@dataclass(frozen=True)
class AuditRequest:
    """A risk-limiting audit to run at the end of the chain (§23-15-617)."""

    contest: str  # contest id; several: comma-separated (one sample)
    risk_limit: float
    seed: str  # the public seed (20 dice digits)
    method: str = "kaplan-markov"
    sampler: str = "consistent"


@dataclass
class ElectionRun:
    """What the chain produced: every stage's record (None where a stage did not run).

    ``night_flags``: precincts flagged by the live reconciliation at each publication of
    unofficial results (one count per row of ``night.publications``). ``absentee`` and ``canvass``:
    the absentee voting before the day and the canvass after the night (None: not modelled).
    """

    day: ElectionDayRun
    counts: PrecinctCounts
    reconciliation: ReconciliationReport
    night: NightResult | None = None
    night_flags: np.ndarray | None = None
    serial_readin: dict | None = None
    audit: AnyAuditResult | None = None
    absentee: AbsenteeRun | None = None
    canvass: CanvassResult | None = None

    @classmethod
    def of_day(
        cls, day: ElectionDayRun, night: NightResult | None = None, absentee: AbsenteeRun | None = None, canvass: CanvassResult | None = None
    ) -> ElectionRun:
        """The chain's record for a day (and night, absentee voting, canvass) run by hand: counts and
        reconciliation computed, (b) and (f) with the absentee ballots (§23-15-615)."""
        if absentee is not None:
            counts = counts_from_results(day.precincts, absentee.per_precinct["receipt_entries"], absentee.tabulated())
        else:
            counts = counts_from_results(day.precincts)
        report = reconcile_precincts([p.precinct for p in day.precincts], [p.county for p in day.precincts], counts)
        flags = flags_at_publications(counts, night.reported_at, night.publications[:, 0]) if night is not None else None
        return cls(day, counts, report, night, flags, absentee=absentee, canvass=canvass)


def ballots_of(
    day: ElectionDayRun, layers: dict[str, np.ndarray] | None = None, absentee: AbsenteeRun | None = None, canvass: CanvassResult | None = None
) -> RunBallots:
    """The day's ballots as the audit sees them (the rows of ``ballots.npz``, in the same order),
    then the absentee and accepted affidavit ballots counted after the polls closed, each batch its
    own (as :meth:`pollsim.rundir.RunDir.audit_ballots` reads them from a run directory)."""
    layers = layers if layers is not None else day.layers()
    ps = day.precincts
    device_ids = {(pi, k): d.device_id for pi, p in enumerate(ps) for k, d in enumerate(p.devices)}
    kinds = {(pi, k): d.kind for pi, p in enumerate(ps) for k, d in enumerate(p.devices)}
    names, parts = _counted(day, layers, absentee, canvass)
    kinds.update({(len(ps) + k, 0): COUNTED_KIND for k in range(len(names))})
    n = len(layers["cvr"])

    def cat(name: str, extra: np.ndarray) -> np.ndarray:
        return np.concatenate([layers[name], extra.astype(layers[name].dtype)]) if len(names) else layers[name]

    return RunBallots(
        election=day.election,
        cvr=cat("cvr", parts["cvr"]),
        precinct=cat("precinct", parts["precinct"]),
        device=cat("device", np.zeros(len(parts["batch"]), np.int16)),
        precinct_ids=tuple(p.precinct for p in ps),
        counties=tuple(p.county for p in ps),
        device_ids=device_ids,
        paper_source=cat("paper", parts["paper"]),
        source=f"run of {day.scenario.scenario} (seed {day.seed})",
        device_kinds=kinds,
        counted_batch=np.concatenate([np.full(n, -1, np.int64), parts["batch"]]) if names else None,
        counted_names=tuple(names),
    )


def _counted(
    day: ElectionDayRun, layers: dict[str, np.ndarray], ab: AbsenteeRun | None, cv: CanvassResult | None
) -> tuple[list[tuple[str, str]], dict[str, np.ndarray]]:
    """((name, county) per counted batch, the counted rows' ``cvr``, ``paper``, ``precinct``, ``batch``):
    the absentee batches in order, then one ``COUNTY/AFF`` batch per county with counted affidavit
    ballots (counties in precinct order), as ``RunDir.counted_batches`` and ``counted_rows``."""
    w = day.election.width
    names: list[tuple[str, str]] = []
    parts: dict[str, list[np.ndarray]] = {"cvr": [np.zeros((0, w), np.uint8)], "paper": [np.zeros((0, w), np.uint8)], "precinct": [np.zeros(0, np.int32)], "batch": [np.zeros(0, np.int64)]}
    if ab is not None:
        names += [(ab.batch_id(k), ab.county_names[int(ab.batches[k]["county"])]) for k in range(len(ab.batches))]
        parts["cvr"].append(ab.cvr)
        parts["paper"].append(ab.paper)
        parts["precinct"].append(ab.ballot_precinct.astype(np.int32))
        parts["batch"].append(ab.ballot_batch.astype(np.int64))
    if cv is not None and "affidavit" in layers:
        counted = cv.affidavit_counted.astype(bool)
        rows, pre = layers["affidavit"][counted], layers["affidavit_precinct"][counted]
        county_of = [p.county for p in day.precincts]
        for county in dict.fromkeys(county_of):
            mine = np.flatnonzero(np.array([county_of[int(p)] == county for p in pre.tolist()], bool))
            if len(mine):
                parts["batch"].append(np.full(len(mine), len(names), np.int64))
                names.append((f"{county}/AFF", county))
                parts["cvr"].append(rows[mine])
                parts["paper"].append(rows[mine])
                parts["precinct"].append(pre[mine].astype(np.int32))
    return names, {k: np.concatenate(v) for k, v in parts.items()}


def run_election(
    scenario: Scenario,
    seed: int,
    *,
    night: bool | None = None,
    serial: int = 0,
    audit: AuditRequest | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    echo: Callable[[str], None] = lambda _line: None,
    absentee: bool | None = None,
    canvass: bool | None = None,
    sink: DaySink | None = None,
) -> ElectionRun:
    """Run the chain for one root seed.

    ``night``: simulate election night (default: when the scenario has more than one precinct);
    ``serial``: read the first K precincts' DREs and scanners over real ptys and refuse unless
    every record equals the day's; ``audit``: a risk-limiting audit of the run's ballots;
    ``executor``/``progress``: as :func:`~pollsim.precinct.election_day.run_election_day`;
    ``echo``: the audit's round-by-round lines; ``absentee``/``canvass``: model absentee voting
    before the day and the canvass after the night (default: when the scenario has an
    ``absentee`` section; ``False`` runs the chain without them); ``sink``: where the day's
    results go as precincts finish (:func:`~pollsim.precinct.election_day.run_election_day`; for
    a run directory: ``with pollsim.rundir.DaySpool(out) as spool: write_run(run_election(...,
    sink=spool), out)``); a sink with a ``take_absentee(absentee_run, election)`` method (a
    ``DaySpool``) is handed the absentee stage as soon as the boards have counted, while the day
    still runs.
    """
    with_absentee = absentee if absentee is not None else scenario.absentee is not None
    ab: AbsenteeRun | None = None
    if with_absentee:
        # The day needs only the envelopes' VOTED AB marks. Each chunk of precincts has its
        # envelopes drawn as it goes to the day (the first chunks simulate while the later ones are
        # drawn); once all are drawn the boards count on a thread while the day runs.
        drawn: list[PrecinctEnvelopes] = []
        keep = getattr(sink, "take_absentee", None)  # a run directory being written takes absentee.npz then

        def count() -> AbsenteeRun:
            ab = run_absentee(scenario, seed, drawn)
            if keep is not None:
                keep(ab, build_election(scenario.election))
            return ab

        with ThreadPoolExecutor(1, thread_name_prefix="absentee") as boards:
            counted: list[Future[AbsenteeRun]] = []

            def marked(first: int, precincts: list[PrecinctSpec]) -> list[PrecinctSpec]:
                part = draw_envelopes(scenario, seed, first, first + len(precincts))
                drawn.extend(part)
                if len(drawn) == len(scenario.precincts):
                    counted.append(boards.submit(count))
                return voted_ab(precincts, [d.at_polls for d in part])

            day = run_election_day(scenario, seed, progress=progress, executor=executor, sink=sink, prepare=marked)
            ab = counted[0].result() if counted else count()
    else:
        day = run_election_day(scenario, seed, progress=progress, executor=executor, sink=sink)
    with_night = night if night is not None else len(day.precincts) > 1
    night_result = simulate_night(day, night_seed(seed)) if with_night else None
    with_canvass = canvass if canvass is not None else with_absentee
    canvassed = run_canvass(day, ab, night_result, seed) if with_canvass else None
    out = ElectionRun.of_day(day, night_result, ab, canvassed)
    if serial:
        from pollsim.night.readin import serial_readin  # ptys and pyserial: only when asked for

        out.serial_readin = serial_readin(day, serial)
    if audit is not None:
        out.audit = run_audit(ballots_of(day, absentee=ab, canvass=canvassed), audit.contest, audit.risk_limit, audit.seed, audit.method, echo, sampler=audit.sampler)
    return out
