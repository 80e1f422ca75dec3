"""One CSV per record kind, zipped; safe to open in a spreadsheet.

Cells starting with = + - @ (or tab/CR) are prefixed with ' so a spreadsheet shows them
instead of running them as formulas: indicator values come from criminals' infrastructure.
Rows go straight from the database cursor into the zip stream.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import BinaryIO

from commands import tr
from exports.snapshot import Snapshot

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries get a fixed date: same data, same bytes
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(DANGEROUS) else s


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build(snap: Snapshot, out: BinaryIO) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind in snap.kinds:
            header = snap.columns[kind]
            with zf.open(_entry(f"{kind}.csv"), "w", force_zip64=True) as raw, \
                    io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
                writer = csv.writer(text, lineterminator="\r\n")
                writer.writerow(header)
                for row in snap.rows(kind):
                    writer.writerow([safe(row[c]) for c in header])
        # The note is read by a person: in the language in force (exports.build sets it);
        # the files' names and column headers are machine names and stay as they are.
        zf.writestr(_entry("README.txt"), "\r\n".join([
            f"{snap.title} — TLP:{snap.tlp}",
            tr("Generated {when}. Records at or below TLP:{tlp}.").format(
                when=snap.generated_at, tlp=snap.tlp),
            tr("Cells starting with = + - @ are prefixed with ' (formula guard)."), ""]))
