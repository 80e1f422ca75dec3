"""The text a person or a tool would read out of an export file, for tests that look for
strings in it: zip members (csv) unpacked, pdf pages extracted with pypdf."""

from __future__ import annotations

import io
import zipfile

from pypdf import PdfReader


def export_text(fmt: str, data: bytes) -> str:
    if fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "\n".join(zf.read(n).decode() for n in zf.namelist())
    if fmt == "pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return data.decode()
