"""SQL lives in `storage/` only: a table changes in one place, and the handlers, the
runtime and the exports read as what they do, not how rows are fetched."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP)\b")


def test_no_sql_outside_storage() -> None:
    found = []
    for package in ("commands", "exports", "bot"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and STATEMENT.match(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "move these statements into a storage/ module: " + ", ".join(found)
