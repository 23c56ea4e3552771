"""The run directory: one writer, one reader, never two runs mixed, bad files told in one line.

Every check goes through the command line as a user would (``python -m pollsim.cli``), except
where the library's own records are compared.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pollsim.errors import PollsimError
from pollsim.pipeline import AuditRequest, ElectionRun, run_election
from pollsim.rundir import RunDir, audit_run_dir, write_run
from tests.conftest import SCENARIOS, reseal

SEED = "12345678901234567890"


def pollsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pollsim.cli", *map(str, args)], capture_output=True, text=True, timeout=300)


def files_of(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> Path:
    """The training precinct at seed 7, reconciled, audited, reported and exported into itself."""
    out = tmp_path_factory.mktemp("rundir") / "A"
    for args in (
        ("run", SCENARIOS / "training-precinct.yaml", "--seed", "7", "--out", out, "--quiet"),
        ("reconcile", out),
        ("audit", out, "--contest", "us-senate", "--risk-limit", "0.1", "--seed", SEED),
        ("export", out, "--format", "arlo-manifest", "--out", out / "manifest.csv"),
        ("export", out, "--format", "nist-cvr", "--out", out / "cvr.json"),
        ("report", out),
    ):
        proc = pollsim(*args)
        assert proc.returncode == 0, proc.stderr
    return out


def test_a_run_into_a_directory_holding_another_run_is_refused_and_changes_nothing(run_a, tmp_path):
    x = tmp_path / "X"
    shutil.copytree(run_a, x)
    before = files_of(x)
    proc = pollsim("run", SCENARIOS / "training-precinct-paper.yaml", "--seed", "8", "--out", x, "--quiet")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and str(x) in proc.stderr and "--force" in proc.stderr
    assert files_of(x) == before


def test_force_replaces_the_run_and_leaves_no_file_of_it(run_a, tmp_path):
    x, fresh = tmp_path / "X", tmp_path / "fresh"
    shutil.copytree(run_a, x)
    assert {"audit/audit.json", "reconciliation.json", "report.html", "manifest.csv", "cvr.json"} <= set(files_of(x))
    for out, force in ((x, ("--force",)), (fresh, ())):
        proc = pollsim("run", SCENARIOS / "training-precinct-paper.yaml", "--seed", "8", "--out", out, "--quiet", *force)
        assert proc.returncode == 0, proc.stderr
    assert files_of(x) == files_of(fresh)  # exactly the new run: nothing derived from the old one survives
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_a_directory_that_is_not_a_run_is_never_written_into(tmp_path):
    d = tmp_path / "home"
    d.mkdir()
    (d / "notes.txt").write_text("mine\n")
    for force in ((), ("--force",)):
        proc = pollsim("run", SCENARIOS / "training-precinct.yaml", "--out", d, "--quiet", *force)
        assert proc.returncode == 2 and "not a pollsim run directory" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in d.iterdir()] == ["notes.txt"]


def test_every_derived_product_records_the_run_it_was_made_from(run_a):
    sha = hashlib.sha256((run_a / "summary.json").read_bytes()).hexdigest()
    assert RunDir(run_a).run_sha256 == sha
    assert json.loads((run_a / "reconciliation.json").read_text())["run_sha256"] == sha
    assert json.loads((run_a / "audit" / "audit.json").read_text())["run_sha256"] == sha
    assert sha[:16] in (run_a / "report.html").read_text()
    assert sha in json.loads((run_a / "cvr.json").read_text())["Notes"]
    assert json.loads((run_a / "manifest.csv.pollsim.json").read_text())["run_sha256"] == sha


def test_summary_records_every_file_the_run_wrote(run_a):
    s = json.loads((run_a / "summary.json").read_text())
    assert s["format_version"] == 2
    for name, digest in s["files"].items():
        if not name.endswith("/"):
            assert hashlib.sha256((run_a / name).read_bytes()).hexdigest() == digest, name
    assert {"ballots.npz", "voters.npz", "eventlog.npz", "precincts.csv", "devices.csv", "election.json", "tapes/", "forms/"} <= set(s["files"])


def test_verify_says_when_the_package_was_made_from_another_run(run_a, tmp_path):
    b = tmp_path / "B"
    assert pollsim("run", SCENARIOS / "training-precinct.yaml", "--seed", "9", "--out", b, "--quiet").returncode == 0
    shutil.copytree(run_a / "audit", b / "audit")
    proc = pollsim("audit", "verify", b / "audit")
    assert proc.returncode == 1 and "made from another run" in proc.stderr and "does NOT verify" in proc.stdout
    ok = pollsim("audit", "verify", run_a / "audit")
    assert ok.returncode == 0 and "verified" in ok.stdout


def test_verify_says_when_a_file_of_the_run_changed_since(run_a, tmp_path):
    x = tmp_path / "X"
    shutil.copytree(run_a, x)
    csv = x / "devices.csv"
    csv.write_text(csv.read_text().replace(",dre,", ",scan-single,", 1))
    proc = pollsim("audit", "verify", x / "audit")
    assert proc.returncode != 0 and f"{csv}: damaged or changed" in proc.stderr and "Traceback" not in proc.stderr


def test_the_report_leaves_out_a_reconciliation_of_another_run(run_a, tmp_path):
    b = tmp_path / "B"
    assert pollsim("run", SCENARIOS / "training-precinct.yaml", "--seed", "9", "--out", b, "--quiet").returncode == 0
    shutil.copy(run_a / "reconciliation.json", b / "reconciliation.json")
    assert pollsim("report", b).returncode == 0
    html = (b / "report.html").read_text()
    assert "reconciliation.json: made from another run" in html


# ------------------------------------------------------------------ bad run directories
def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


DAMAGE = {
    "ballots-missing": ("ballots.npz", lambda p: p.unlink()),
    "ballots-truncated": ("ballots.npz", _truncate),
    "ballots-garbage": ("ballots.npz", lambda p: p.write_bytes(b"PK\x03\x04 not a zip")),
    "ballots-empty": ("ballots.npz", lambda p: p.write_bytes(b"")),
    "ballots-a-folder": ("ballots.npz", lambda p: (p.unlink(), p.mkdir())),
    "precincts-empty": ("precincts.csv", lambda p: p.write_text("")),
    "precincts-edited": ("precincts.csv", lambda p: p.write_text(p.read_text().replace(",dre,", ",paper,"))),
    "devices-binary": ("devices.csv", lambda p: p.write_bytes(b"\xff\xfe\x00garbage")),
    "summary-not-json": ("summary.json", lambda p: p.write_text("{ nope")),
    "summary-a-list": ("summary.json", lambda p: p.write_text("[1, 2]")),
    "summary-old-format": ("summary.json", lambda p: p.write_text(json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k not in ("format_version", "files")}))),
    "summary-missing": ("summary.json", lambda p: p.unlink()),
    "election-garbage": ("election.json", lambda p: p.write_text('{"id": 3}')),
    "voters-truncated": ("voters.npz", _truncate),
    "eventlog-truncated": ("eventlog.npz", _truncate),
}
VERBS = {
    "reconcile": lambda d: ("reconcile", d),
    "audit": lambda d: ("audit", d, "--contest", "us-senate", "--risk-limit", "0.1", "--seed", SEED),
    "export": lambda d: ("export", d, "--format", "nist-cvr", "--out", d.parent / "cvr.json"),
    "report": lambda d: ("report", d),
}
NEEDS = {"reconcile": {"precincts.csv", "devices.csv", "summary.json"}, "audit": {"ballots.npz", "precincts.csv", "devices.csv", "election.json", "summary.json"},
         "export": {"ballots.npz", "precincts.csv", "devices.csv", "election.json", "summary.json"},
         "report": {"ballots.npz", "precincts.csv", "devices.csv", "summary.json", "voters.npz", "eventlog.npz"}}  # fmt: skip


CASES = [(verb, damage) for verb in sorted(VERBS) for damage in sorted(DAMAGE) if DAMAGE[damage][0] in NEEDS[verb]]


@pytest.mark.parametrize(("verb", "damage"), CASES, ids=[f"{v}-{d}" for v, d in CASES])
def test_a_damaged_run_is_one_line_naming_the_file_exit_2(run_a, tmp_path, damage, verb):
    name, spoil = DAMAGE[damage]
    d = tmp_path / "run"
    shutil.copytree(run_a, d, ignore=shutil.ignore_patterns("audit", "report.html", "plots", "reconciliation.*"))
    spoil(d / name)
    before = files_of(d) if (d / name).exists() else None
    proc = pollsim(*VERBS[verb](d))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert str(d / name) in proc.stderr or (name == "summary.json" and str(d) in proc.stderr), proc.stderr
    if before is not None:
        assert files_of(d) == before  # nothing written, nothing removed


def test_a_consistently_sealed_but_empty_precinct_table_is_still_refused(run_a, tmp_path):
    """Hashes prove a file is what the run wrote, not that it makes sense: an empty table sealed
    as if written so is refused by the reader's own checks (it used to reconcile as 0 precincts)."""
    d = tmp_path / "run"
    shutil.copytree(run_a, d)
    (d / "precincts.csv").write_text((d / "precincts.csv").read_text().splitlines()[0] + "\n")
    reseal(d)
    proc = pollsim("reconcile", d)
    assert proc.returncode == 2 and "precincts.csv" in proc.stderr and "0 precinct rows" in proc.stderr


# ------------------------------------------------------------------ library: one chain, in memory or on disk
def test_the_audit_in_memory_equals_the_audit_of_the_written_run(training, tmp_path):
    request = AuditRequest("us-senate", 0.10, SEED)
    in_memory = run_election(training, 7, audit=request)
    write_run(in_memory, tmp_path / "run")
    on_disk = audit_run_dir(tmp_path / "run", "us-senate", 0.10, SEED, "kaplan-markov", echo=lambda _l: None)
    assert in_memory.audit is not None
    assert [r.draws for r in in_memory.audit.rounds] == [r["draws"] for r in on_disk["rounds"]]
    sample = (tmp_path / "run" / "audit" / "sample.csv").read_text().splitlines()[1:]
    assert len(sample) == len(in_memory.audit.sample.cards) > 0
    assert [d.measured_risk for d in in_memory.audit.decisions] == [d["measured_risk"] for d in on_disk["decisions"]]
    assert in_memory.audit.workload == on_disk["workload"]


def test_the_reconciliation_of_the_written_run_equals_the_stage_in_memory(training, tmp_path):
    run = run_election(training, 7, night=True)
    write_run(run, tmp_path / "run")
    rd = RunDir(tmp_path / "run")
    from pollsim.reconcile import reconcile_precincts

    again = reconcile_precincts(rd.precinct_ids, [p.county for p in rd.precincts], rd.counts())
    assert again.rows() == run.reconciliation.rows()


def test_a_failed_write_leaves_the_earlier_run_as_it_was(training, tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_run(run_election(training, 7), out)
    before = files_of(out)
    import pollsim.rundir.write as w

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(w, "device_rows", boom)
    with pytest.raises(PollsimError) as err:
        write_run(ElectionRun.of_day(run_election(training, 8).day), out, force=True)
    assert str(out) in str(err.value) and "No space left" in str(err.value)
    assert files_of(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_stress_nights_write_no_temporary_run_directory(monkeypatch, training, tmp_path):
    import tempfile

    from pollsim.scale.stress import stress

    def refuse(*_a, **_k):
        raise AssertionError("a stress night made a temporary directory")

    for name in ("mkdtemp", "TemporaryDirectory", "mkstemp", "NamedTemporaryFile"):
        monkeypatch.setattr(tempfile, name, refuse)
    dist, rows = stress(training, 3, 2)
    assert len(rows) == 2 and dist["nights"] == 2
