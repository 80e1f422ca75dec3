"""The audit chain's head as posted in the room, and the check of the database against it.

A hash chain only proves an entry was not altered if its head is held somewhere the
database's owner cannot rewrite: recomputing every hash after an edit yields a chain that
verifies. So each sitrep and each `/audit verify` reply carries the head (entry count and
hash) in its text and, machine-readably, under `WITNESS_KEY` in the event content. The
event is end-to-end encrypted: members' homeservers keep the ciphertext and their clients
the plaintext, out of reach of whoever holds the bot's database.

Reading the room's history back needs Matrix, which commands never touch: the runtime
injects a `WitnessSource` (bot/witness.py); tests use a list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from commands.core.i18n import N_, tr, trn
from commands.core.reply import Code, ReplyBuilder
from commands.core.timeparse import format_dtg
from commands.core.types import WitnessedHead
from storage.audit import Head

WITNESS_KEY = "org.opsroom.audit_head"
# The consultation log's head (storage.consultations), posted beside the audit head so the
# same encrypted event witnesses both chains.
CONSULT_WITNESS_KEY = "org.opsroom.consult_head"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def head_content(head: Head | None, consult: Head | None = None) -> dict[str, Any] | None:
    """The event content keys that witness `head` and the consultation log's head `consult`
    (None: nothing to witness yet)."""
    content: dict[str, Any] = {}
    if head is not None:
        content[WITNESS_KEY] = {"n": head.n, "hash": head.hash}
    if consult is not None:
        content[CONSULT_WITNESS_KEY] = {"n": consult.n, "hash": consult.hash}
    return content or None


def parse_head(content: Mapping[str, Any], key: str = WITNESS_KEY) -> Head | None:
    """The head an event's content carries under `key` (the audit log's, or the
    consultation log's), or None if it carries none or a malformed one."""
    value = content.get(key)
    if not isinstance(value, dict):
        return None
    n, digest = value.get("n"), value.get("hash")
    if (not isinstance(n, int) or isinstance(n, bool) or n < 1 or not isinstance(digest, str)
            or not _HEX64.fullmatch(digest)):
        return None
    return Head(n, digest)


AUDIT_HEAD = N_("Audit head")
CONSULT_HEAD = N_("Consultation log head")


def consult_line(report: ReplyBuilder, head: Head | None) -> None:
    """The consultation log's head, beside the audit head; nothing before its first row."""
    if head is not None:
        report.line(tr(CONSULT_HEAD), f" #{head.n} · ", Code(head.hash))


def head_line(report: ReplyBuilder, head: Head | None, *, label: str = AUDIT_HEAD,
              note: str = "") -> None:
    """The human-readable witness: the full hash, so anyone can compare it by eye or tool.
    `label` is marked with N_ where it is written (translated here); `note`, already
    translated by the caller, follows the line."""
    if head is None:
        report.line(tr("{label}: the audit log is empty").format(label=tr(label)), note)
        return
    report.line(tr(label), f" #{head.n} · ", Code(head.hash), note)


@dataclass(frozen=True)
class Rewritten:
    """Entry `last` no longer has the hash the room holds for it: some entry from `first`
    (the one after the newest head below it that still matches) to `last` was rewritten."""

    first: int
    last: int
    witness: WitnessedHead
    found: str
    later: int = 0  # newer witnessed heads that disagree as a consequence


@dataclass(frozen=True)
class Missing:
    """Entries `first`..`last` were witnessed in the room but are not in the database."""

    first: int
    last: int
    witness: WitnessedHead


@dataclass
class WitnessCheck:
    witnessed: int = 0  # heads found in the room
    matched: int = 0
    newest: WitnessedHead | None = None
    problems: list[Rewritten | Missing] = field(default_factory=list)
    complete: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def compare(hashes: Mapping[int, str], witnessed: Sequence[WitnessedHead],
            *, complete: bool = True) -> WitnessCheck:
    """Hold every witnessed head against the database's entries (`hashes`: n → hash).

    Every head counts, not only the newest: after a rewrite the bot itself posts heads of
    the rewritten chain (the next sitrep), which match; the heads posted before it do not.
    Entries appended after the newest witness cannot be checked and are fine.
    """
    check = WitnessCheck(witnessed=len(witnessed), complete=complete)
    if not witnessed:
        return check
    check.newest = max(witnessed, key=lambda head: (head.at, head.n))
    last_entry = max(hashes, default=0)
    last_match = 0
    open_range: Rewritten | None = None
    beyond: list[WitnessedHead] = []
    for head in sorted(witnessed, key=lambda head: (head.n, head.at)):
        found = hashes.get(head.n)
        if found is None:
            if head.n > last_entry:
                beyond.append(head)
            else:  # a gap the local check names too; say which witness it contradicts
                check.problems.append(Missing(head.n, head.n, head))
            continue
        if found == head.hash:
            check.matched += 1
            last_match = max(last_match, head.n)
            if open_range is not None:
                check.problems.append(open_range)
                open_range = None
            continue
        if open_range is not None:
            open_range = Rewritten(open_range.first, open_range.last, open_range.witness,
                                   open_range.found, open_range.later + 1)
            continue
        open_range = Rewritten(last_match + 1, head.n, head, found)
    if open_range is not None:
        check.problems.append(open_range)
    if beyond:
        top = max(beyond, key=lambda head: (head.n, -head.at.timestamp()))
        check.problems.append(Missing(last_entry + 1, top.n, top))
    return check


def _where(w: WitnessedHead) -> str:
    return f"{format_dtg(w.at)} / {w.event_id}"


def describe(problem: Rewritten | Missing) -> str:
    """One problem, as a sentence in the language in force."""
    where = _where(problem.witness)
    if isinstance(problem, Missing):
        if problem.first == problem.last:
            return tr("entry #{n} was witnessed in the room at {where} but is no longer in "
                      "the database (deleted)").format(n=problem.first, where=where)
        return tr("entries #{first}..#{last} were witnessed in the room at {where} but are no "
                  "longer in the database (deleted)").format(
                      first=problem.first, last=problem.last, where=where)
    if problem.first == problem.last:
        text = tr("entry #{last} rewritten after it was witnessed in the room at {where}: the "
                  "room holds #{last} = {held}…, the database now has {found}…")
    else:
        text = tr("entries #{first}..#{last} rewritten after they were witnessed in the room "
                  "at {where}: the room holds #{last} = {held}…, the database now has "
                  "{found}…")
    text = text.format(first=problem.first, last=problem.last, where=where,
                       held=problem.witness.hash[:16], found=problem.found[:16])
    if problem.later:
        text += " " + trn("({n} newer witnessed head no longer matches either)",
                          "({n} newer witnessed heads no longer match either)",
                          problem.later).format(n=problem.later)
    return text


def summary(check: WitnessCheck) -> str:
    """One line on how the database stands against the room, for an intact log (in the
    language in force: English on the command line)."""
    if check.newest is None:
        return tr("Room witness: no audit head posted in this room yet; this reply posts the "
                  "first")
    newest = check.newest
    if check.complete:
        said = tr("Room witness: matches every head posted in this room ({n}, newest #{head} "
                  "at {when})")
    else:
        said = tr("Room witness: matches every head posted in this room ({n}, newest #{head} "
                  "at {when}) (older history not read: bound reached)")
    return said.format(n=check.matched, head=newest.n, when=format_dtg(newest.at))
