"""Reads pollsim's emulated devices with the independent reader (reader.py), clean and noisy."""

import os
import random
import secrets
import select
import subprocess
import sys
import termios
import threading
import time
import tty
from pathlib import Path

import pytest
import serial

sys.path.insert(0, str(Path(__file__).parent))
from reader import Reader, load_key, tally_of, verify_chain  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
POLLSIM = ROOT / ".venv" / "bin" / "pollsim"
SCENARIOS = {"dre": ROOT / "scenarios" / "training-precinct.yaml", "scanner": ROOT / "scenarios" / "training-precinct-paper.yaml"}


@pytest.fixture(scope="module")
def keyfile(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "results.key"
    path.write_text(secrets.token_hex(32) + "\n")  # as README.md makes one
    os.chmod(path, 0o600)
    return path


def serve(kind, keyfile):
    proc = subprocess.Popen(
        [str(POLLSIM), "serve", kind, "--scenario", str(SCENARIOS[kind]), "--seed", "1", "--key", str(keyfile)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    path = proc.stdout.readline().strip()
    if not path:
        proc.kill()
        pytest.fail("pollsim serve printed no port: " + proc.stderr.read())
    return proc, path


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module", params=["dre", "scanner"])
def device(request, keyfile):
    proc, path = serve(request.param, keyfile)
    try:
        # the day is replayed as fast as possible: wait until the polls are final
        for _ in range(200):
            with serial.Serial(path, timeout=0.05) as port:
                r = Reader(port, key=load_key(keyfile))
                r.link.sync()
                r.identify()
                if r.status()["polls"] == "final":
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the device's polls never closed")
        yield request.param, path
    finally:
        stop(proc)


def check(res, reader):
    ident, c1, c2 = res["identity"], res["counters"], res["counters_after"]
    assert ident["sealed"] is True
    assert reader.seals >= 7  # IDENTIFY, STATUS, COUNTERS x2, TALLY, CVRS, PAPER_RECORDS (>= 1 chunk each)
    assert c1 == c2, "voting went on during the readout"
    assert res["status"]["polls"] == "final"
    assert c1["public"] == len(res["cvrs"]) == len(res["paper"]) > 0
    assert c1["public"] <= c1["protective"]
    width = sum(n for n, _ in ident["contests"])
    assert res["width"] == width and all(len(r) == width for r in res["cvrs"] + res["paper"])
    assert all(set(r) <= {0, 1} for r in res["cvrs"] + res["paper"])
    assert len(res["tally"]) == width
    assert res["tally"] == tally_of(res["cvrs"], ident["contests"])
    assert len(res["log"]) >= c1["log_entries"]
    assert verify_chain(res["log"], ident["definition_hash"], c1["log_entries"], c1["log_head"]) == len(res["log"])
    assert [e["sequence"] for e in res["log"]] == list(range(1, len(res["log"]) + 1))


def read_device(path, keyfile, last_counter=0, **kw):
    with serial.Serial(path, timeout=0.05) as port:
        r = Reader(port, key=load_key(keyfile), **kw)
        r.sealer.last = last_counter  # S5: a later session must seal with higher counters
        res = r.read_all()
    check(res, r)
    return res, r


def test_clean_readout(device, keyfile):
    kind, path = device
    res, r = read_device(path, keyfile)
    assert res["identity"]["kind"] == {"dre": "dre", "scanner": "scan-single"}[kind]
    # a second session reads the same records, with newer seals
    # a second session, in chunks of 7 records, reads the same records with newer seals
    res2, r2 = read_device(path, keyfile, last_counter=r.sealer.last, max_count=7)
    assert r2.seals == 5 + 2 * -(-len(res["cvrs"]) // 7)  # 5 whole replies + the chunks
    for k in ("cvrs", "paper", "tally", "counters"):
        assert res2[k] == res[k]
    assert res2["log"][: len(res["log"])] == res["log"]


def test_wrong_key_is_forged(device, tmp_path):
    from reader import SealError

    bad = tmp_path / "bad.key"
    bad.write_text(secrets.token_hex(32))
    with serial.Serial(device[1], timeout=0.05) as port:
        r = Reader(port, key=load_key(bad))
        r.link.sync()
        with pytest.raises(SealError, match="forged"):
            r.identify()


def test_tally_example_of_the_spec():
    # docs/protocol.md section 5, TALLY: contests [3,1] and [2,1], three records
    rows = [[1, 0, 0, 0, 1], [0, 0, 0, 1, 0], [1, 1, 0, 1, 0]]
    assert tally_of(rows, [[3, 1], [2, 1]]) == [1, 0, 0, 2, 1]


class NoisyRelay(threading.Thread):
    """Copies bytes between the device's pty and a new pty, corrupting and dropping a share
    of them in both directions (seeded)."""

    def __init__(self, device_path, corrupt=0.01, drop=0.01, seed=7):
        super().__init__(daemon=True)
        self.dev = os.open(device_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.dev)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        attrs = termios.tcgetattr(self.slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        self.path = os.ttyname(self.slave)
        self.rngs = {self.dev: random.Random(seed), self.master: random.Random(seed + 1)}
        self.corrupt, self.drop = corrupt, drop
        self.stopping = False
        self.damaged = 0

    def _mangle(self, data, rng):
        out = bytearray()
        for b in data:
            x = rng.random()
            if x < self.drop:
                self.damaged += 1
                continue
            if x < self.drop + self.corrupt:
                b ^= 1 << rng.randrange(8)
                self.damaged += 1
            out.append(b)
        return bytes(out)

    def run(self):
        other = {self.dev: self.master, self.master: self.dev}
        while not self.stopping:
            ready, _, _ = select.select([self.dev, self.master], [], [], 0.05)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                data = self._mangle(data, self.rngs[fd])
                if data:
                    os.write(other[fd], data)

    def close(self):
        self.stopping = True
        self.join(5)
        for fd in (self.dev, self.master, self.slave):
            os.close(fd)


@pytest.mark.slow
def test_noisy_readout(device, keyfile):
    kind, path = device
    clean, r = read_device(path, keyfile)
    relay = NoisyRelay(path)
    relay.start()
    try:
        noisy, rn = read_device(relay.path, keyfile, last_counter=r.sealer.last, deadline=120)
    finally:
        relay.close()
    assert relay.damaged > 0 and rn.link.stats["damaged"] > 0
    for k in ("cvrs", "paper", "tally", "counters", "identity"):
        assert noisy[k] == clean[k]
    assert noisy["log"][: len(clean["log"])] == clean["log"]
