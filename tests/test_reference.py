"""docs/reference.md against the parsers: every verb and every option the command takes is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from pollsim.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_verb_and_option_is_in_the_reference():
    doc = (ROOT / "docs" / "reference.md").read_text()
    missing = []
    for path, parser in _parsers(build_parser()):
        if path and f"pollsim {' '.join(path)}" not in doc and f"`{path[-1]}`" not in doc:
            missing.append(" ".join(path))
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag not in ("--help", "--version") and f"{flag}" not in doc:
                    missing.append(f"{' '.join(path)} {flag}")
    assert not missing, missing


def test_every_option_has_help_and_shows_its_default():
    for path, parser in _parsers(build_parser()):
        text = parser.format_help()
        for action in parser._actions:
            if action.option_strings and action.option_strings[0] not in ("-h", "--version"):
                assert action.help, f"{' '.join(path)} {action.option_strings[0]} has no help"
                if action.default not in (None, False, argparse.SUPPRESS):
                    assert f"(default: {action.default})" in text, f"{' '.join(path)} {action.option_strings[0]}"


def test_audit_run_dir_is_the_same_as_audit_run():
    from pollsim.cli import _normalise

    assert _normalise(["audit", "MS", "--contest", "x"]) == ["audit", "run", "MS", "--contest", "x"]
    assert _normalise(["audit", "verify", "P"]) == ["audit", "verify", "P"]
