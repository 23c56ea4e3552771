"""The reader under test: a small county reader for pollsim's devices, on pyserial and pollsim's Client.

Your own reader takes its place; the tests in test_sample_reader.py judge it against the
device's ground truth. It opens a serial port (a device path, or a pyserial URL such as
``pollsim://dre?attach=...``), identifies the device, and reads its status, counters, tally,
cast vote records and paper records, asking again when the line garbles a request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import serial

from pollsim.protocol import Client, LinkError, ResultVerifier


@dataclass
class Results:
    serial: str
    polls: str
    faults: tuple[str, ...]
    public: int
    tally: np.ndarray | None
    cvrs: np.ndarray | None
    paper: np.ndarray | None

    def mismatched(self) -> list[int]:
        """Ballots whose electronic record differs from their paper record (misrecording)."""
        if self.cvrs is None or self.paper is None:
            return []
        return np.flatnonzero((self.cvrs != self.paper).any(axis=1)).tolist()


def _ask(call, attempts: int = 5):
    for attempt in range(attempts):
        try:
            return call()
        except LinkError:
            if attempt == attempts - 1:
                raise


def read_results(port: str, key: bytes | None = None) -> Results:
    """Everything a county needs from the device on ``port``; with ``key`` every result must be
    sealed with it."""
    opened = serial.serial_for_url(port, timeout=0.01) if "://" in port else serial.Serial(port, timeout=0.01)
    with opened:
        client = Client(opened, verifier=ResultVerifier(key) if key is not None else None)
        identity = _ask(client.identify)
        status = _ask(client.status)
        counters = _ask(client.counters)
        ballots = identity.kind != "electronic-poll-book"
        return Results(
            serial=identity.serial,
            polls=status.polls,
            faults=status.faults,
            public=counters.public,
            tally=_ask(client.tally) if ballots else None,
            cvrs=_ask(client.read_all_cvrs) if ballots else None,
            paper=_ask(client.paper_records) if ballots else None,
        )
