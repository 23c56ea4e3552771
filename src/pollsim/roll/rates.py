"""The population behind the roll and the clerks' sources, as rates with their sources.

Every number a roll simulation uses is a field of :class:`Rates`, with its source beside it. Where
nothing is published the field says so and is a setting (design.md: "where nothing is published,
say so and make it a setting"): the reporting delays and miss rates of the clerks' sources, the
answers to confirmation notices, and the turnout of elections other than the 2020 and 2024
presidential generals (whose per-county figures are bundled: EAVS 2020 F1, OpenElections 2024).

The suffrage law (:data:`LAWS`) is chosen per run: ``pre2024`` (Miss. Const. art. 12 §241: a
conviction of a disenfranchising crime removes the person for good, short of a pardon or a
legislative suffrage bill, which are not modelled) or ``2024`` (the 2024 suffrage bill, law.md:
removed only while serving incarceration or parole, a qualified elector again once they are
complete, never removed on a probation-only sentence), in force from ``Rates.effective``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

Law = Literal["pre2024", "2024"]
LAWS: tuple[Law, ...] = ("pre2024", "2024")


@dataclass(frozen=True)
class Source:
    """How one source tells the clerk of a death or a move: the share it never reports, and its mean delay."""

    miss: float
    """Share of events the source never reports."""
    delay_days: float
    """Mean days from the event to the clerk having it (exponential)."""


@dataclass(frozen=True)
class Rates:
    # --- deaths -------------------------------------------------------------------------------
    deaths_per_year: tuple[tuple[int, int], ...] = ((2017, 33_760), (2018, 33_760), (2019, 33_760), (2020, 40_204), (2021, 38_526), (2022, 36_440))
    """Deaths of Mississippi residents a year. 2020: 40,204 and 2021: 38,526 (Mississippi State Department
    of Health, reported by the Simpson County News, Jan. 2022, which puts 2020 at 19.09 % over the 2017-2019
    average, hence 33,760 for 2017-2019); 2022: 36,440 (CDC weekly counts via usmortality.com). Later years
    repeat the 2017-2019 average (an assumption: mortality back to its pre-pandemic level)."""
    adults: int = 2_280_000
    """Mississippi residents aged 18 and over, about 2.28 million (2020 Census; the bundled ALARM total is
    2,961,279 residents of all ages). Deaths over adults give the yearly death rate."""
    gompertz_slope: float = 0.085
    """Mortality grows about 8.5 % a year of age in adulthood (the Gompertz slope of US life tables): deaths
    fall on the old, so deadwood from deaths is mostly old registrants."""
    # --- moves (share of adults a year) ------------------------------------------------------
    moves_within_county: float = 0.078
    """Moved house within the county. 13.4 % of Mississippians moved in a year (ACS 2014-2018: 86.6 % in the
    same house a year earlier, via indexmundi/Census QuickFacts), less the two shares below."""
    moves_between_counties: float = 0.031
    """Moved to another Mississippi county: the US share, 3.1 % (ACS 2020-2024 5-year, via NCI State Cancer
    Profiles); no Mississippi figure was found, so the US one is used."""
    moves_out_of_state: float = 0.025
    """Left Mississippi: 54,815 adults in 2007-08 (ACS 2008, Tax Foundation migration profile: 70,345 movers
    out less 15,530 under 18) of about 2.2 million adults."""
    # --- people joining the roll --------------------------------------------------------------
    arrivals_per_year: int = 56_000
    """Adults moving into Mississippi a year: 55,967 in 2007-08 (ACS 2008, Tax Foundation: 72,948 movers in
    less 16,981 under 18)."""
    eighteenth_birthdays_per_year: int = 40_000
    """Mississippians turning 18 a year: an estimate (about 40,000 births a year in the early 2000s); a setting."""
    registers: float = 0.75
    """Share of new residents and new 18-year-olds who register within the years simulated: a setting (no
    Mississippi figure)."""
    registers_before_general: float = 0.5
    """Of those, the share who register in the weeks before the next November election rather than at a
    random time: a setting (registration surges before the deadline)."""
    surge_window: tuple[int, int] = (90, 25)
    """Those register between 90 and 25 days before the election, so some miss the 30-day book closing and
    appear at the polls as new registrants (affidavit ballot): a setting."""
    moved_reregisters: float = 0.55
    """Share of movers to another county who register there themselves (the old county's record is then
    transferred): a setting."""
    moved_updates: float = 0.35
    """Share of movers within the county who give the clerk their new address themselves: a setting."""
    self_update_days: float = 150.0
    """Mean days before they do: a setting."""
    # --- the clerks' sources (no published delays or miss rates: settings) --------------------
    obituaries: Source = Source(miss=0.5, delay_days=20.0)
    """Obituaries the clerk reads."""
    dhs: Source = Source(miss=0.1, delay_days=45.0)
    """Death reports from the Department of Human Services (the state's monthly lists)."""
    coroners: Source = Source(miss=0.8, delay_days=30.0)
    """Coroners' reports (only deaths a coroner investigates)."""
    dps: Source = Source(miss=0.5, delay_days=60.0)
    """Department of Public Safety: a driver's licence address change or a licence surrendered to another
    state ("reliable information of a move")."""
    usps: Source = Source(miss=0.4, delay_days=120.0)
    """USPS change of address (National Change of Address matching): only movers who file one."""
    other_state: Source = Source(miss=0.6, delay_days=300.0)
    """Notice of registration in another state (only movers who register there, and states that tell)."""
    # --- confirmation notices (no published answer rates: settings) ---------------------------
    answers_resident: float = 0.45
    """Share of notices answered by a voter still living at the address (confirms: active again)."""
    answers_moved_in_county: float = 0.25
    """Share answered by a voter who moved within the county (new address: active again)."""
    answers_moved_away: float = 0.15
    """Share answered by a voter who left the county (asks to be removed)."""
    answer_days: float = 30.0
    """Mean days for an answer to come back."""
    # --- turnout ------------------------------------------------------------------------------
    turnout_spread: float = 3.0
    """Spread of voters' propensity to vote (logistic scale): some vote every time, some never, which is
    what makes the no-vote notice trigger bite. A setting."""
    turnout_midterm: float = 0.45
    """Votes cast over registered voters in a congressional general: an estimate, a setting."""
    turnout_governor: float = 0.38
    """In a state (governor's) general: an estimate, a setting."""
    turnout_primary: float = 0.20
    """In a primary: an estimate, a setting."""
    absentee_share: float = 0.053
    """Absentee share of votes outside 2020: 5.3 % (MS SOS 2011, parameters.md); 2020 uses EAVS F1 per county."""
    unlisted_attempt: float = 0.04
    """A person not on their county's roll (removed, moved county without registering, or barred after
    completing a sentence) who would vote comes to the polls anyway with this probability, and votes by
    affidavit: a setting. The law decides whether such a person is on the roll, not whether they come."""
    ineligible_attempt: float = 0.03
    """Same for a person still on probation or parole for a disenfranchising crime: a setting."""
    old_precinct_share: float = 0.7
    """A voter who moved within the county without telling the clerk goes back to the old polling place,
    where the pollbook lists them, with this probability (else to the new one: wrong precinct): a setting."""
    affidavit_registers: float = 0.5
    """Share of eligible people turned away (not on the roll) who register afterwards: a setting."""
    # --- convictions of disenfranchising crimes -----------------------------------------------
    disenfranchised_2016: int = 218_181
    """People disenfranchised in Mississippi in 2016, 7 % of them incarcerated (The Sentencing Project,
    "Felony Disenfranchisement in Mississippi", 2018)."""
    disenfranchised_2020: int = 235_152
    """In 2020 (The Sentencing Project, "Locked Out 2020")."""
    incarcerated_share: float = 0.07
    """Share of the disenfranchised who are incarcerated (2016 brief)."""
    supervised_share: float = 0.18
    """Share on probation or parole: the brief gives 93 % "on probation or parole or completed"; the split
    is a setting."""
    convictions_per_year: int = 13_300
    """New convictions of disenfranchising crimes a year: the 2016-2020 growth of the disenfranchised
    (4,243 a year) plus the about 4 % a year of them who die or leave the state (derived)."""
    sentence_shares: tuple[float, float, float] = (0.31, 0.28, 0.41)
    """Probation only, jail (incarceration, no parole), prison then parole: felony sentences in state courts,
    2006 (BJS: 27 % probation + 4 % other, 28 % jail, 41 % prison)."""
    jail_years: float = 0.5
    """Mean jail time: a setting."""
    prison_years: float = 2.6
    """Mean time served in state prison: 2.6 years (BJS, Time Served in State Prison, 2016)."""
    parole_years: float = 2.0
    """Mean parole or post-release supervision: a setting."""
    probation_years: float = 3.0
    """Mean probation term: a setting."""
    certification_days: float = 60.0
    """Mean days from a conviction to the clerk having the court's certification (sentence type stated)."""
    discharge_days: float = 60.0
    """Mean days from completing a sentence to the clerk knowing (2024 bill)."""
    restored_registers: float = 0.35
    """Share of people enfranchised again by the 2024 bill, whose record is gone, who register again: a setting."""
    effective: str = "2024-07-01"
    """When the 2024 bill takes effect (Mississippi acts usually take effect on 1 July)."""
    # --- county practice and the commissioners' pay -------------------------------------------
    full_practice_inactive_share: float = 0.12
    """Inactive share of a county that sends a notice on every trigger: the calibration scales each
    county's practice from its EAVS 2020 inactive share over this (about the 90th percentile of counties)."""
    per_diem: tuple[tuple[str, int], ...] = (("2022-07-01", 100), ("2024-07-01", 110))
    """Commissioners' per diem for roll revision (§23-15-153): $100 under the 2022 act, $110 under the 2024 bill."""
    records_per_revision_day: int = 400
    """Records a commissioner revises in a day: a setting (no published figure)."""
    commissioners: int = 5
    """Election commissioners per county (law.md)."""

    def describe(self) -> dict[str, object]:
        """The rates as a JSON-ready dict (written into roll.json)."""
        out: dict[str, object] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = {"miss": v.miss, "delay_days": v.delay_days} if isinstance(v, Source) else v
        return out
