"""The README's command reference is the one generated from the declarations."""

from __future__ import annotations

from pathlib import Path

from commands.core.reference import BEGIN, END, render

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_command_reference_is_current() -> None:
    text = README.read_text()
    section = text[text.index(BEGIN): text.index(END) + len(END)]
    assert section == render(), "run: python -m commands.core.reference, paste into README.md"


def test_readme_layout_names_every_module() -> None:
    """The Layout section is the map a newcomer starts from: a module missing from it (or
    one listed that no longer exists) sends them looking in the wrong place."""
    text = README.read_text()
    layout = text[text.index("## Layout"): text.index("## How to add a command")]
    root = README.parent
    modules = {str(path.relative_to(root)) for package in ("bot", "commands", "storage", "exports")
               for path in (root / package).rglob("*.py") if path.name != "__init__.py"}
    listed = {line.split("`")[1] for line in layout.splitlines() if line.startswith("- `")}
    assert modules - listed == set(), "add to README's Layout"
    assert listed - modules == set(), "remove from README's Layout"
