"""Where export files wait between the worker that writes them and the upload that sends
them. Kept apart from exports.build so the bot can tidy up at start-up without importing
the format libraries (reportlab, stix2), which would slow its start."""

from __future__ import annotations

from pathlib import Path


def export_dir(db_path: Path) -> Path:
    return db_path.parent / "exports"


def discard_leftovers(db_path: Path) -> None:
    """Files of exports a crash left unsent (their replies rebuild them at restart)."""
    for leftover in export_dir(db_path).glob("*.part"):
        leftover.unlink(missing_ok=True)
