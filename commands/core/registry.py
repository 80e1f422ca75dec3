"""Imports every handler module so their declarations are registered before dispatch.

Adding a command kind = adding its module name here; nothing else lists commands.
"""

from __future__ import annotations

import importlib

MODULES = (
    "operation",
    "agency",
    "language",
    "task",
    "arrest",
    "seize",
    "asset",
    "preserve",
    "form",
    "partner",
    "provider",
    "takedown",
    "board",
    "rollcall",
    "sitrep",
    "export",
    "undo",
    "audit",
    "trust",
    "deconflict",
    "help",
    "why",
    "retention",
    "hold",
    "log",
    "erase",
)


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"commands.{name}")
