"""Restored suffrage: the earlier law and the 2024 bill on the same people (law.md)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pollsim.roll.calendar import NEVER, day
from pollsim.roll.table import Reason, Sentence, Status
from pollsim.roll.vote import METRICS

from .conftest import QUIET, Clerk


def _convict(c: Clerk, sentence: Sentence, certified: str, custody_end: str, end_learned: str) -> int:
    return c.add(conv=day(certified) - 30, conv_learned=certified, sentence=sentence, release=day(certified) - 30 if sentence == Sentence.PROBATION else day(custody_end) - 200,
                 custody_end=custody_end, end_learned=end_learned, latent=50.0)  # fmt: skip


@pytest.mark.parametrize("law", ["pre2024", "2024"])
def test_probation_only(law):
    c = Clerk(law=law)
    row = _convict(c, Sentence.PROBATION, "2025-02-01", "2027-01-01", "2027-02-15")
    c.run_to("2026-06-30")
    if law == "pre2024":
        assert c.status[row] == Status.REMOVED and c.removed_reason[row] == Reason.FELONY
        assert c.removed_date[row] == day("2025-02-01")
        c.run_to("2030-06-30")  # for good: the record is deleted after two federal generals, the reason kept
        assert c.status[row] == Status.PURGED and c.removed_reason[row] == Reason.FELONY
    else:  # never removed: a qualified elector at once on a probation-only sentence
        assert c.status[row] == Status.ACTIVE and not c.restored[row] and c.removed_date[row] < day("2000-01-01")


@pytest.mark.parametrize("law", ["pre2024", "2024"])
def test_prison_then_parole(law):
    c = Clerk(law=law)
    row = _convict(c, Sentence.PRISON_PAROLE, "2025-02-01", "2026-05-10", "2026-06-20")
    c.run_to("2026-06-30")
    assert c.status[row] == Status.REMOVED and c.removed_reason[row] == Reason.FELONY  # removed while serving
    c.run_to("2026-07-01")
    if law == "pre2024":
        assert c.status[row] == Status.REMOVED
    else:  # enfranchised again once the clerk learns the sentence is complete
        assert c.status[row] == Status.ACTIVE and c.restored[row]


def test_the_2024_bill_applies_from_its_effective_date_to_earlier_convictions():
    c = Clerk(law="2024")
    probation = _convict(c, Sentence.PROBATION, "2023-05-01", "2026-01-01", "2026-02-01")
    done = _convict(c, Sentence.JAIL, "2022-05-01", "2023-01-01", "2023-02-01")
    serving = _convict(c, Sentence.PRISON_PAROLE, "2023-06-01", "2025-03-01", "2025-04-01")
    c.run_to("2024-06-30")
    for row in (probation, done, serving):  # the earlier law is in force until 1 July 2024
        assert c.status[row] == Status.REMOVED and c.removed_reason[row] == Reason.FELONY
    c.run_to("2024-07-01")
    assert c.status[probation] == Status.ACTIVE and c.restored[probation]
    assert c.status[done] == Status.ACTIVE and c.restored[done]
    assert c.status[serving] == Status.REMOVED
    c.run_to("2025-03-31")
    assert c.status[serving] == Status.REMOVED
    c.run_to("2025-04-01")
    assert c.status[serving] == Status.ACTIVE and c.restored[serving]


def test_a_person_whose_record_is_gone_may_register_again_under_the_2024_bill():
    c = Clerk(law="2024", rates=replace(QUIET, restored_registers=1.0))
    row = c.add(status=Status.PURGED, removed_reason=Reason.FELONY, conv="2005-01-01", sentence=Sentence.PRISON_PAROLE,
                release="2008-01-01", custody_end="2010-01-01")  # fmt: skip
    c.run_to("2024-07-01")
    assert c.apply[row] != NEVER and c.status[row] == Status.PURGED
    c.run_to("2026-12-31")
    assert c.status[row] == Status.ACTIVE and c.restored[row] and c.reg_date[row] > day("2024-07-01")
    d = Clerk(law="pre2024", rates=replace(QUIET, restored_registers=1.0))
    row = d.add(status=Status.PURGED, removed_reason=Reason.FELONY, conv="2005-01-01", sentence=Sentence.PRISON_PAROLE,
                release="2008-01-01", custody_end="2010-01-01")  # fmt: skip
    d.run_to("2026-12-31")
    assert d.status[row] == Status.PURGED


def _statewide(run, measure: str) -> np.ndarray:
    k = METRICS.index(measure)
    return np.array([rec.metrics[:, k].sum() for rec in run.records])


def test_same_population_until_the_bill_takes_effect(small_laws):
    before, bill = small_laws["pre2024"], small_laws["2024"]
    assert [r.election.iso for r in before.records] == [r.election.iso for r in bill.records]
    for a, b in zip(before.records, bill.records, strict=True):
        if a.election.date < day("2024-07-01"):
            assert np.array_equal(a.metrics, b.metrics), a.election.iso
            assert np.array_equal(a.rows, b.rows)


def test_the_earlier_law_gives_more_affidavit_ballots_from_people_whose_sentence_is_complete(small_laws):
    before, bill = small_laws["pre2024"], small_laws["2024"]
    after = np.array([r.election.date >= day("2024-07-01") for r in before.records])
    assert _statewide(before, "affidavit_completed_sentence")[after].sum() > _statewide(bill, "affidavit_completed_sentence")[after].sum()
    assert _statewide(before, "restored")[after].sum() == 0 < _statewide(bill, "restored")[after].min()
    assert _statewide(bill, "restored_regular")[after].sum() > 0 == _statewide(before, "restored_regular").sum()
    assert (_statewide(bill, "barred_residents")[after] < _statewide(before, "barred_residents")[after]).all()
