"""Results keys as the county hands them out: hex digits on the command line or in a file."""

from __future__ import annotations

from pathlib import Path

from pollsim.errors import PollsimError

__all__ = ["MIN_KEY_BYTES", "read_key"]

MIN_KEY_BYTES = 16
"""The shortest key accepted (128 bits); HMAC-SHA-256 keys of 32 bytes are usual."""


def read_key(text: str) -> bytes:
    """The key given by ``text``: a file holding hex digits (or raw bytes), or hex digits."""
    path = Path(text)
    if path.is_file():
        raw = path.read_bytes()
        try:
            key = bytes.fromhex(raw.decode().strip())
        except (UnicodeDecodeError, ValueError):
            key = raw
        where = f"key file {text}"
    else:
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise PollsimError(f"--key {text!r}: neither a file nor hex digits") from None
        where = "--key"
    if len(key) < MIN_KEY_BYTES:
        raise PollsimError(
            f"{where}: a results key needs at least {MIN_KEY_BYTES} bytes "
            f"({2 * MIN_KEY_BYTES} hex digits), got {len(key)}"
        )
    return key
