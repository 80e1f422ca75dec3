"""One CSV per record kind, zipped; safe to open in a spreadsheet.

Cells starting with = + - @ (or tab/CR) are prefixed with ' so a spreadsheet shows them
instead of running them as formulas: indicator values come from criminals' infrastructure.
"""

from __future__ import annotations

import csv
import io
import zipfile

from exports.snapshot import RECORD_KINDS, Snapshot, public

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries get a fixed date: same data, same bytes
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(DANGEROUS) else s


def build(snap: Snapshot) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind in RECORD_KINDS:
            rows = [public(r) for r in snap.records[kind]]
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            header = snap.columns[kind]
            writer.writerow(header)
            for row in rows:
                writer.writerow([safe(row[c]) for c in header])
            info = zipfile.ZipInfo(f"{kind}.csv", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.getvalue().encode("utf-8"))
        readme = zipfile.ZipInfo("README.txt", date_time=FIXED_TIME)
        zf.writestr(readme, f"{snap.op['name']} ({snap.op['code']}) — TLP:{snap.tlp}\r\n"
                    f"Generated {snap.generated_at}. Records at or below TLP:{snap.tlp}.\r\n"
                    "Cells starting with = + - @ are prefixed with ' (formula guard).\r\n")
    return buffer.getvalue()
