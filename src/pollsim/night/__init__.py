"""Election night: closing, transport, county read-in and the reporting timeline (§23-15-591 ff.).

The front door is :func:`simulate_night`: it takes the election day (an
:class:`~pollsim.precinct.election_day.ElectionDayRun`) and returns a :class:`NightResult` (when
each precinct reported, every publication of unofficial results, the night's incidents).
:mod:`.timeline` is the SimPy model of the night; :mod:`.readin` reads chosen precincts' devices
over real pseudo-terminals with the serial protocol (``pollsim run --serial K``) and holds what
came over the wire against the day's records.
"""

from pollsim.night.timeline import Card, NightResult, cards_of, night_seed, simulate_night

__all__ = ["Card", "NightResult", "cards_of", "night_seed", "simulate_night"]
