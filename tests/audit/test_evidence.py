"""Evidence per device type (issue 16, item 3): which audit each kind of paper supports."""

from __future__ import annotations

import pytest

from pollsim.audit.errors import AuditError
from pollsim.audit.evidence import EQUIPMENT, batch_evidence, evidence_table, parse_overrides, require
from pollsim.rundir import RunDir


def test_the_default_table_follows_the_equipment():
    table = evidence_table()
    assert table["vvpat-roll"] == "batch" and table["precinct-scanner"] == "batch" and table["bmd-card"] == "batch"
    assert table["central-count-absentee"] == "batch"
    assert table["precinct-scanner-imprint"] == "card" and table["central-count-imprint"] == "card"
    assert set(table) == set(EQUIPMENT)


def test_overrides_take_equipment_or_device_kinds():
    assert parse_overrides(["scan-single=card", "vvpat-roll=paper"]) == {"precinct-scanner": "card", "vvpat-roll": "paper"}
    assert evidence_table({"precinct-scanner": "card"})["precinct-scanner"] == "card"


@pytest.mark.parametrize("bad", ["scanner=card", "precinct-scanner", "precinct-scanner=imprinted"])
def test_a_bad_override_is_one_line_naming_it(bad):
    with pytest.raises(AuditError) as exc:
        parse_overrides([bad])
    assert bad in str(exc.value) and "\n" not in str(exc.value)


def test_a_runs_batches_take_their_devices_evidence(mixed_run, training_run):
    rb = RunDir(mixed_run).audit_ballots()
    ev = batch_evidence(rb)
    kinds = {(p, d): k for (p, d), k in rb.device_kinds.items()}
    for key, eq, level in zip(rb.batches.keys.tolist(), ev.equipment, ev.level, strict=True):
        kind = kinds[divmod(key, rb.batches.stride)]
        assert eq == {"dre": "vvpat-roll", "scan-single": "precinct-scanner"}[kind] and level == "batch"
    summary = ev.summary(rb.batches.counts)["equipment"]
    assert sum(x["cards"] for x in summary.values()) == rb.n and set(summary) == {"vvpat-roll", "precinct-scanner"}
    imprinting = batch_evidence(rb, {"precinct-scanner": "card"})
    assert imprinting.mask("card").sum() == summary["precinct-scanner"]["batches"]
    assert set(batch_evidence(RunDir(training_run).audit_ballots()).equipment) == {"vvpat-roll"}


def test_a_method_the_paper_cannot_support_is_refused_naming_the_batch(mixed_run):
    rb = RunDir(mixed_run).audit_ballots()
    ev = batch_evidence(rb, {"vvpat-roll": "paper"})
    with pytest.raises(AuditError, match="vvpat-roll") as exc:
        require(ev, ("card", "batch"), "a batch-comparison audit", rb.batches.names)
    assert "batch 'p" in str(exc.value)
