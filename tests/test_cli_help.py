"""``--help`` is plain text: the reStructuredText markup of the docstrings the
command line shows as descriptions (double backticks) does not reach it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import _parser, main

ROOT = Path(__file__).resolve().parent.parent


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """``(command words, parser)`` for the parser and every subcommand's, nested ones too."""
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += parsers(sub, (*path, name))
    return found


ALL = parsers(_parser())


def test_every_subcommand_is_found():
    assert {words for words, _ in ALL} >= {(), ("run",), ("list",), ("report",), ("discriminate",)}


@pytest.mark.parametrize("words,parser", ALL, ids=[" ".join(w) or "top" for w, _ in ALL])
def test_help_has_no_double_backticks(words, parser, capsys):
    assert "``" not in parser.format_help()
    with pytest.raises(SystemExit) as exit_:
        main([*words, "--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("usage: python -m conformance") and "``" not in shown


def test_python_m_conformance_help():
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "python -m conformance: run conformance checks" in proc.stdout and "``" not in proc.stdout
