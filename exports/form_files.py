"""A request form draft as a file: DOCX to edit and sign, pdf to review, JSON to import.

The format libraries (python-docx, reportlab) are imported only when a file of theirs is
written, so the bot can name and hash a form's file without loading them.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from commands import form_canonical as canonical

# format → (extension, mimetype)
FORMATS = {
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": ("pdf", "application/pdf"),
    "json": ("json", "application/json"),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def _safe(part: str) -> str:
    return _UNSAFE.sub("-", part).strip("-") or "x"


def filename(draft: dict[str, Any], fmt: str) -> str:
    """`NIGHTFALL-F-3-epoc-pr-DRAFT.docx`: letters, digits and dashes only, whatever the
    operation code holds, and DRAFT in the name so a copy saved elsewhere still says it."""
    ext, _ = FORMATS[fmt]
    parts = [draft["operation"]["code"], draft["ref"], draft["form"], "DRAFT"]
    return "-".join(_safe(p) for p in parts) + f".{ext}"


def write(draft: dict[str, Any], fmt: str, out: BinaryIO) -> None:
    """The file of `draft` in `fmt`, in the words of the form's template in
    `draft["language"]` (a ValueError if that template does not exist)."""
    if fmt == "json":
        out.write(canonical(draft))
    elif fmt == "docx":
        from exports import form_docx

        form_docx.build(draft, out)
    elif fmt == "pdf":
        from exports import form_pdf

        form_pdf.build(draft, out)
    else:
        raise ValueError(f"unknown form file format {fmt!r}: {', '.join(FORMATS)}")
