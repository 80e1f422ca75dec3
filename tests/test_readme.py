"""The README's command reference is the one generated from the declarations."""

from __future__ import annotations

from pathlib import Path

from commands.core.reference import BEGIN, END, render

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_command_reference_is_current() -> None:
    text = README.read_text()
    section = text[text.index(BEGIN): text.index(END) + len(END)]
    assert section == render(), "run: python -m commands.core.reference, paste into README.md"
