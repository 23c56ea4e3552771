"""The audit package: verifiable from the package alone, and any tampering is caught."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pollsim.audit import AuditBoards, verify_package
from pollsim.rundir import audit_run_dir

from .conftest import SEED


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def packages(training_run, wrong_run, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("packages")
    out = {}
    for name, run, method, contests, boards, sampler in [
        ("km", training_run, "kaplan-markov", "us-senate,school-board,amendment-1", AuditBoards(error_rate=0.02, seed=1), "consistent"),
        ("alpha", training_run, "alpha", "us-house-2,local-option", None, "consistent"),
        ("bravo", training_run, "bravo", "us-senate,amendment-1", None, "consistent"),
        ("escalated", wrong_run, "kaplan-markov", "us-senate", None, "consistent"),
        ("colorado", wrong_run, "alpha", "us-senate,school-board", None, "colorado"),
    ]:
        out[name] = base / name
        audit_run_dir(run, contests, 0.10, SEED, method, out[name], quiet, boards=boards, sampler=sampler)
    return out


@pytest.mark.parametrize("name", ["km", "alpha", "bravo", "escalated", "colorado"])
def test_a_package_verifies_from_the_package_alone(packages, name, tmp_path):
    moved = tmp_path / "published"
    shutil.copytree(packages[name], moved)  # no run directory needed
    assert verify_package(moved) == (True, [])


def test_the_same_audit_writes_byte_identical_packages(training_run, tmp_path):
    a = audit_run_dir(training_run, "us-senate", 0.10, SEED, "alpha", tmp_path / "a", quiet)
    audit_run_dir(training_run, "us-senate", 0.10, SEED, "alpha", tmp_path / "b", quiet)
    for name in [*a["files"], "audit.json"]:
        if name != "audit.json":
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def rehash(pkg: Path) -> None:
    """What a careful forger does: make audit.json's file hashes match the edited files."""
    doc = json.loads((pkg / "audit.json").read_text())
    doc["files"] = {n: hashlib.sha256((pkg / n).read_text().encode()).hexdigest() for n in doc["files"]}
    (pkg / "audit.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def edit_json(pkg: Path, change) -> None:
    doc = json.loads((pkg / "audit.json").read_text())
    change(doc)
    (pkg / "audit.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def edit_cell(pkg: Path, name: str, line: int, column: int, change) -> None:
    """Replace one CSV cell (line 0 is the header) with ``change(old value)``."""
    lines = (pkg / name).read_text().split("\n")
    parts = lines[line].split(",")
    parts[column] = change(parts[column])
    lines[line] = ",".join(parts)
    (pkg / name).write_text("\n".join(lines))


def swap_lines(pkg: Path, name: str, a: int, b: int) -> None:
    lines = (pkg / name).read_text().split("\n")
    lines[a], lines[b] = lines[b], lines[a]
    (pkg / name).write_text("\n".join(lines))


TAMPERING = {
    "a manual record changed": lambda p: edit_cell(p, "comparisons.csv", 1, 7, lambda v: "pruitt" if v != "pruitt" else "dawson"),
    "a risk in the trace lowered": lambda p: edit_cell(p, "risk.csv", 1, 5, lambda v: repr(float(v) / 2)),
    "a ballot swapped in the sample": lambda p: swap_lines(p, "sample.csv", 1, 2),
    "a ticket altered": lambda p: edit_cell(p, "sample.csv", 1, 4, lambda v: v[:-1] + ("1" if v[-1] != "1" else "2")),
    "the manifest edited": lambda p: edit_cell(p, "manifest.csv", 1, 3, lambda v: str(int(v) + 1)),
    "the seed changed": lambda p: edit_json(p, lambda d: d.__setitem__("seed", "99999999999999999999")),
    "the risk limit raised": lambda p: edit_json(p, lambda d: d.__setitem__("risk_limit", 0.5)),
    "a reported vote changed": lambda p: edit_json(p, lambda d: d["contests"][0]["reported_votes"].__setitem__(0, 400)),
    "the decision rewritten": lambda p: edit_json(p, lambda d: d["decisions"][0].__setitem__("official_record", "paper")),
    "the per diem understated": lambda p: edit_json(p, lambda d: d["workload"].__setitem__("per_diem_cost", 1.0)),
}


@pytest.mark.parametrize("careful", [False, True], ids=["plain", "rehashed"])
@pytest.mark.parametrize("what", list(TAMPERING))
def test_a_tampered_package_fails_verification(packages, tmp_path, what, careful):
    pkg = tmp_path / "pkg"
    shutil.copytree(packages["km"], pkg)
    TAMPERING[what](pkg)
    if careful:
        rehash(pkg)
    ok, problems = verify_package(pkg)
    assert not ok and problems
    assert all("\n" not in p for p in problems)


def test_a_tampered_recount_changes_nothing_unnoticed(packages, tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(packages["escalated"], pkg)
    edit_cell(pkg, "recount.csv", 1, 3, lambda v: "100")
    rehash(pkg)
    ok, problems = verify_package(pkg)
    assert not ok and any("decision" in p for p in problems)


def test_a_missing_file_fails_verification(packages, tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(packages["bravo"], pkg)
    (pkg / "risk.csv").unlink()
    ok, problems = verify_package(pkg)
    assert not ok and any("risk.csv" in p for p in problems)
