"""Results keys as the county hands them out: hex digits on the command line or in a file.

The one loader of results keys (``pollsim serve``, ``read``, ``conformance``, the ``pollsim://``
URL's ``key``). docs/protocol.md section 8, "The key file", is the format: hex digits, either
case, ASCII whitespace (spaces, tabs, CR, LF) anywhere ignored, at least 16 bytes, nothing else.
A value naming an existing file is read as a key file, even when it is also valid hex.
"""

from __future__ import annotations

from pathlib import Path

from pollsim.errors import PollsimError

__all__ = ["MIN_KEY_BYTES", "parse_key_text", "read_key"]

MIN_KEY_BYTES = 16
"""The shortest key accepted (128 bits); HMAC-SHA-256 keys of 32 bytes are usual."""

_HEX = frozenset("0123456789abcdefABCDEF")
_SPACE = frozenset(" \t\r\n\v\f")


def parse_key_text(text: str, where: str) -> bytes:
    """The key that ``text`` spells in hex; a :class:`PollsimError` naming ``where`` and the first bad character."""
    digits: list[str] = []
    line, column = 1, 0
    for ch in text:
        column += 1
        if ch in _HEX:
            digits.append(ch)
        elif ch == "\n":
            line, column = line + 1, 0
        elif ch not in _SPACE:
            shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
            raise PollsimError(f"{where}: not a results key: {shown} at line {line}, column {column} (a key is hex digits only, whitespace ignored)")
    if len(digits) % 2:
        raise PollsimError(f"{where}: not a results key: an odd number of hex digits ({len(digits)})")
    key = bytes.fromhex("".join(digits))
    if len(key) < MIN_KEY_BYTES:
        raise PollsimError(f"{where}: a results key needs at least {MIN_KEY_BYTES} bytes ({2 * MIN_KEY_BYTES} hex digits), got {len(key)}")
    return key


def read_key(text: str) -> bytes:
    """The key given by ``text``: the name of a key file (which wins), or the hex digits themselves."""
    path = Path(text)
    if path.is_file():
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PollsimError(f"key file {text}: cannot read it ({exc.strerror})") from None
        try:
            content = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            before = raw[: exc.start]
            line = before.count(b"\n") + 1
            column = exc.start - (before.rfind(b"\n") + 1) + 1
            raise PollsimError(f"key file {text}: not a results key: byte 0x{raw[exc.start]:02x} at line {line}, column {column} (a key is hex digits only, whitespace ignored)") from None
        return parse_key_text(content, f"key file {text}")
    if path.exists():
        raise PollsimError(f"--key {text}: not a regular file")
    digits = sum(ch in _HEX for ch in text)
    if digits and digits % 2 == 0 and all(ch in _HEX or ch in _SPACE for ch in text):
        return parse_key_text(text, "--key")
    raise PollsimError(f"--key {text!r}: neither a file nor hex digits")
