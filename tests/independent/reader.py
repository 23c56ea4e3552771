"""Independent reader of pollsim devices, written from docs/protocol.md alone.

Implements: COBS framing (section 2), frame layout + CRC-32C (3), the reliable link L1-L14
(SYNC, stop-and-wait, ACK/NAK, RTO with backoff, FRAGMENT joining), the messages of section 5,
chunked readouts (7) and sealed results (8).  Compact pieces (L15-L18) are not offered.
"""

import hashlib
import hmac
import json
import random
import struct
import time
from collections import deque

import crc32c as _crc

ANY = 0xFFFF
ACK, NAK, SYNC, SYNC_ACK, FRAGMENT = 1, 2, 3, 4, 5
IDENTIFY, STATUS, COUNTERS, TALLY, CVRS, PAPER, EVENT_LOG = 0x10, 0x11, 0x15, 0x16, 0x17, 0x18, 0x19
ERROR = 0xFF
MAX_RUN = 65808


class LinkError(Exception):
    pass


class Refused(Exception):
    pass


class SealError(Exception):
    pass


def crc32c(b):
    return _crc.crc32c(b)


def cobs_encode(data):
    out, block, ended_ff = bytearray(), bytearray(), False
    for b in data:
        ended_ff = False
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(0xFF)
                out += block
                block = bytearray()
                ended_ff = True
    if not ended_ff:  # canonical: a final full FF block is not followed by 01
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(run):
    if not run:
        raise ValueError("bad_cobs")
    out, i, n = bytearray(), 0, len(run)
    while i < n:
        code = run[i]
        if code == 0 or i + code > n:
            raise ValueError("bad_cobs")
        chunk = run[i + 1 : i + code]
        if 0 in chunk:
            raise ValueError("bad_cobs")
        out += chunk
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def build_frame(dev, typ, seq, ack, payload=b""):
    body = struct.pack(">BHBHHH", 1, dev, typ, seq, ack, len(payload)) + payload
    return body + struct.pack(">I", crc32c(body))


def parse_frame(run):
    if len(run) > MAX_RUN:
        raise ValueError("oversize")
    raw = cobs_decode(run)
    if len(raw) < 14:
        raise ValueError("too_short")
    if struct.unpack(">I", raw[-4:])[0] != crc32c(raw[:-4]):
        raise ValueError("bad_crc")
    ver, dev, typ, seq, ack, ln = struct.unpack(">BHBHHH", raw[:10])
    if ver != 1:
        raise ValueError("bad_version")
    if ln != len(raw) - 14:
        raise ValueError("length_mismatch")
    return dev, typ, seq, ack, raw[10:-4]


class Link:
    """Host side of the link (L1-L14), fragments joined (L13), compact pieces not offered."""

    def __init__(self, port, ack_timeout=0.5, retries=10, deadline=60.0):
        self.port, self.ack_timeout, self.retries, self.deadline = port, ack_timeout, retries, deadline
        self.dev = ANY
        self.buf = bytearray()
        self.in_step = False  # L4: drop bytes before the first 00
        self.synced = False
        self.recent = deque(maxlen=32)  # L8: True = damaged/NAK/timeout
        self.srtt = self.rttvar = None
        self.stats = {"damaged": 0, "retransmits": 0, "naks": 0}
        self._reset_session()

    def _reset_session(self):
        self.tx_seq = 0
        self.last_rx = 0
        self.last_pair = None
        self.join = None
        self.last_msgno = None

    # -- wire ------------------------------------------------------------------------------
    def _noisy(self):
        return any(self.recent)

    def _write(self, frame, data=False):
        wire = b"\x00" + cobs_encode(frame) + b"\x00"
        if data and self._noisy():
            wire += b"\x00"
        self.port.write(wire)

    def _control(self, typ, ack, payload=b""):
        for _ in range(3 if typ in (ACK, NAK) and self._noisy() else 1):
            self._write(build_frame(self.dev, typ, 0, ack, payload))

    def _rto(self):
        if self.srtt is None:
            return self.ack_timeout
        return min(max(self.srtt + 4 * self.rttvar, min(0.02, self.ack_timeout)), 8 * self.ack_timeout)

    def _measure(self, rtt):
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt

    def _poll(self, timeout, awaiting):
        """Read for up to `timeout`; return (events, got_bytes)."""
        t = max(0.001, min(timeout, 0.05))
        if self.port.timeout != t:  # pyserial reconfigures the port on every change
            self.port.timeout = t
        end = time.monotonic() + timeout
        events, got = [], False
        while True:
            n = max(1, self.port.in_waiting)
            data = self.port.read(n)
            if data:
                got = True
                self.buf += data
                while True:
                    i = self.buf.find(0)
                    if i < 0:
                        if len(self.buf) > MAX_RUN + 2:  # oversize: keep memory bounded
                            self.buf = bytearray()
                            self.in_step = False
                        break
                    run = bytes(self.buf[:i])
                    del self.buf[: i + 1]
                    if not self.in_step:
                        self.in_step = True
                        continue
                    if run:
                        events += self._run(run, awaiting)
            if events or time.monotonic() >= end:
                return events, got

    def _run(self, run, awaiting):
        try:
            dev, typ, seq, ack, payload = parse_frame(run)
        except ValueError:
            self.stats["damaged"] += 1
            self.recent.append(True)
            if len(run) > 16 and not awaiting:  # L5
                self._control(NAK, self.last_rx)
            return [("damaged",)]
        if self.dev != ANY and dev not in (self.dev, ANY):  # L6
            return []
        if typ == NAK:
            self.stats["naks"] += 1
            self.recent.append(True)
            return [("nak",)]
        self.recent.append(False)
        if typ == ACK:
            return [("ack", ack)]
        if typ == SYNC_ACK:
            return [("sync_ack", payload)] if len(payload) >= 5 else []
        if typ == SYNC or not self.synced:
            return []  # L3: data before SYNC_ACK ignored
        self._control(ACK, seq)  # L7
        if self.last_pair == (seq, ack):
            return [("acked_by", ack)]  # retransmission, not delivered again
        self.last_pair = (seq, ack)
        self.last_rx = seq
        ev = [("acked_by", ack)]
        if typ == FRAGMENT:
            msg = self._fragment(payload)
            if msg is not None:
                ev.append(("msg", msg[0], ack, msg[1]))
        else:
            ev.append(("msg", typ, ack, payload))
        return ev

    def _fragment(self, p):
        if len(p) < 7:
            return None
        mtype, msgno, length, off = struct.unpack(">BHHH", p[:7])
        piece = p[7:]
        if msgno == self.last_msgno:
            return None
        if self.join is None or self.join[0] != msgno:  # (guess) another number starts anew
            self.join = [msgno, mtype, length, bytearray()]
        held = self.join[3]
        if off <= len(held) < off + len(piece):
            held += piece[len(held) - off :]
        if len(held) >= length:
            self.join = None
            self.last_msgno = msgno
            return mtype, bytes(held[:length])
        return None

    # -- session ---------------------------------------------------------------------------
    def sync(self, features=0x01):
        end = time.monotonic() + self.deadline
        nonce = random.getrandbits(32)
        frame = build_frame(self.dev, SYNC, 0, 0, struct.pack(">IB", nonce, features))
        wait, silent = self.ack_timeout, 0
        self.synced = False
        self._write(frame)
        while time.monotonic() < end:
            events, got = self._poll(wait, awaiting=True)
            for e in events:
                if e[0] == "sync_ack" and struct.unpack(">I", e[1][:4])[0] == nonce:
                    self._reset_session()
                    self.synced = True
                    self.features = e[1][4]
                    return self.features
            if any(e[0] == "damaged" for e in events):
                self._write(frame)
                continue
            if not events:
                silent = 0 if got else silent + 1
                if silent >= self.retries:
                    raise LinkError(f"{self.port.name}: no answer to SYNC")
                wait = min(wait * 2, 8 * self.ack_timeout)
                self._write(frame)
        raise LinkError(f"{self.port.name}: no SYNC_ACK within the deadline")

    def request(self, typ, payload=b""):
        """One exchange (L12): the request, then the reply (type, payload)."""
        if not self.synced:
            self.sync()
        if len(payload) > 24:
            raise NotImplementedError("requests over 24 bytes need FRAGMENTs")
        end = time.monotonic() + self.deadline
        self.tx_seq = self.tx_seq % 65535 + 1
        seq = self.tx_seq
        frame = build_frame(self.dev, typ, seq, self.last_rx, payload)
        self._write(frame, data=True)
        awaiting, first_try, sent_at = True, True, time.monotonic()
        rto = self._rto()
        reply_wait = 1.0
        while True:
            now = time.monotonic()
            if now >= end:
                raise LinkError(f"{self.port.name}: no reply to request 0x{typ:02x} (seq {seq}) within {self.deadline} s")
            events, got = self._poll(min(rto if awaiting else reply_wait, end - now), awaiting)
            for e in events:
                if awaiting and ((e[0] == "ack" and e[1] == seq) or (e[0] == "acked_by" and e[1] == seq)):
                    awaiting = False
                    if first_try:
                        self._measure(time.monotonic() - sent_at)
                elif e[0] == "nak" and awaiting:  # L11
                    self.stats["retransmits"] += 1
                    first_try = False
                    self._write(frame, data=True)
                elif e[0] == "msg" and e[2] == seq:
                    return e[1], e[3]
            if not events and not got:
                if awaiting:  # L10 timeout: same frame, doubled wait
                    self.recent.append(True)
                    self.stats["retransmits"] += 1
                    first_try = False
                    rto = min(rto * 2, 8 * self.ack_timeout)
                    self._write(frame, data=True)
                else:  # L12: ask again
                    reply_wait = min(reply_wait * 2, 8.0)
                    self._write(frame, data=True)


class Sealer:
    """Opening of sealed envelopes (section 8, S1-S3)."""

    def __init__(self, key):
        self.key, self.scope, self.last = key, None, 0

    def open(self, payload, what, identity=False):
        if len(payload) < 112 or payload[:4] != b"PSR2":
            raise SealError(f"{what} reply is forged: not sealed")
        head = payload[:80]
        if not hmac.compare_digest(hmac.new(self.key, head, hashlib.sha256).digest(), payload[80:112]):
            raise SealError(f"{what} reply is forged: the seal does not verify with this key")
        counter = struct.unpack(">Q", payload[4:12])[0]
        length = struct.unpack(">I", payload[44:48])[0]
        body = payload[112:]
        if not identity and payload[12:44] != self.scope:
            raise SealError(f"{what} reply is forged: sealed for another device, memory card or election")
        if len(body) != length or hashlib.sha256(body).digest() != payload[48:80]:
            raise SealError(f"{what} reply is altered")
        if identity:  # S2: the scope of the identity the envelope carries (only once its digest holds)
            ident = json.loads(body)
            text = f"{ident['serial']}|{ident.get('definition_hash', '')}|{ident.get('memory_card', '')}"
            if payload[12:44] != hashlib.sha256(text.encode()).digest():
                raise SealError(f"{what} reply is forged: sealed for another identity")
            self.scope = payload[12:44]
        if counter <= self.last:
            raise SealError(f"{what} reply is replayed (counter {counter} <= {self.last})")
        self.last = counter
        return body


class Reader:
    def __init__(self, port, key=None, max_count=65535, **link_kw):
        self.link = Link(port, **link_kw)
        self.max_count = max_count
        self.sealer = Sealer(key) if key is not None else None
        self.seals = 0

    def ask(self, typ, payload=b"", sealed=False, what=""):
        rtyp, body = self.link.request(typ, payload)
        if rtyp == ERROR:
            code = struct.unpack(">H", body[:2])[0] if len(body) >= 2 else 0
            raise Refused(code, body[2:].decode("utf-8", "replace"))
        if rtyp != typ | 0x80:
            raise LinkError(f"reply type 0x{rtyp:02x} to request 0x{typ:02x}")
        if sealed and self.sealer:
            body = self.sealer.open(body, what, identity=(typ == IDENTIFY))
            self.seals += 1
        elif body[:4] == b"PSR2" and len(body) >= 112:  # S7 without the key
            if hashlib.sha256(body[112:]).digest() != body[48:80]:
                raise SealError(f"{what} altered")
            body = body[112:]
        return body

    def identify(self):
        ident = json.loads(self.ask(IDENTIFY, sealed=True, what="IDENTIFY"))
        if not 1 <= ident["device_id"] <= 65534:
            raise ValueError("malformed IDENTIFY")
        for c in ident.get("contests", []):
            if not (isinstance(c, list) and len(c) == 2 and 1 <= c[1] <= c[0]):
                raise ValueError("malformed IDENTIFY contests")
        self.link.dev = ident["device_id"]
        return ident

    def status(self):
        return json.loads(self.ask(STATUS, sealed=True, what="STATUS"))

    def counters(self):
        return json.loads(self.ask(COUNTERS, sealed=True, what="COUNTERS"))

    def tally(self):
        b = self.ask(TALLY, sealed=True, what="TALLY")
        n = struct.unpack(">H", b[:2])[0]
        return list(struct.unpack(f">{n}I", b[2 : 2 + 4 * n]))

    def _chunks(self, typ, what, sealed):
        max_count = self.max_count
        items, total, width, failures = [], None, None, 0
        while total is None or len(items) < total:
            try:
                b = self.ask(typ, struct.pack(">IH", len(items), max_count), sealed=sealed, what=what)
            except LinkError:
                failures += 1
                if failures > 6:
                    raise
                max_count = max(1, max_count // 2)
                continue
            off, total, count = struct.unpack(">IIH", b[:10])
            if off != len(items):
                raise ValueError(f"{what}: chunk at {off}, asked {len(items)}")
            if typ == EVENT_LOG:
                chunk = json.loads(b[10:].decode())
                if len(chunk) != count:
                    raise ValueError("EVENT_LOG count mismatch")
                items += chunk
            else:
                width = struct.unpack(">H", b[10:12])[0]
                rows = b[12:]
                if len(rows) != count * width:
                    raise ValueError(f"{what}: {len(rows)} bytes")
                items += [list(rows[i * width : (i + 1) * width]) for i in range(count)]
            if count == 0:
                break
        return items, width

    def cvrs(self):
        return self._chunks(CVRS, "CVRS", True)

    def paper_records(self):
        return self._chunks(PAPER, "PAPER_RECORDS", True)

    def event_log(self):
        return self._chunks(EVENT_LOG, "EVENT_LOG", False)[0]

    def read_all(self):
        self.link.sync()
        r = {"identity": self.identify(), "status": self.status(), "counters": self.counters()}
        r["tally"] = self.tally()
        r["cvrs"], r["width"] = self.cvrs()
        r["paper"], _ = self.paper_records()
        r["log"] = self.event_log()
        r["counters_after"] = self.counters()
        return r


def tally_of(cvrs, contests):
    totals = [0] * sum(c for c, _ in contests)
    for row in cvrs:
        col = 0
        for choices, vote_for in contests:
            marks = row[col : col + choices]
            if sum(marks) <= vote_for:
                for k, m in enumerate(marks):
                    totals[col + k] += m
            col += choices
    return totals


def verify_chain(log, definition_hash, log_entries, log_head):
    """S4 and the hash chain of section 5; returns the number of entries checked."""
    prev = bytes.fromhex(definition_hash)
    heads = {0: definition_hash}
    for i, e in enumerate(log):
        if e["sequence"] != i + 1:
            raise ValueError(f"log entry {i + 1} has sequence {e['sequence']}")
        f = e["canonical"].split("|", 5)
        if (f[0], f[3], f[4], f[5]) != (str(e["sequence"]), e["event_id"], e["disposition"], e["description"]):
            raise ValueError(f"log entry {i + 1}: canonical text differs from its fields")
        h = hashlib.sha256(prev + e["canonical"].encode()).hexdigest()
        if h != e["hash"]:
            raise ValueError(f"log entry {i + 1}: chain hash does not follow")
        prev = bytes.fromhex(h)
        heads[i + 1] = h
    if heads.get(log_entries) != log_head:
        raise ValueError(f"entry {log_entries} does not hash to the counters' log_head")
    return len(log)


def load_key(path):
    with open(path) as f:
        key = bytes.fromhex(f.read().strip())
    if len(key) < 16:
        raise ValueError("key shorter than 16 bytes")
    return key
