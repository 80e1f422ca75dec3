"""The consultation and disclosure log (LED art. 25): one row per answer that showed
records, none for anything else, never the data itself; its own chain, its pruning, /why."""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import cli
from bot.config import ConfigError, parse
from bot.housekeeping import consultations_cutoff, prune_consultations
from commands import deconflict
from commands.core import registry, spec
from commands.core.consulted import scope_of
from commands.core.dispatcher import Dispatcher
from commands.core.tokenizer import tokenize
from commands.core.types import Reply, RoomHeads, Settings, WitnessedHead
from commands.witness import CONSULT_WITNESS_KEY, parse_head
from storage import consultations
from tests.harness import LEAD, OFFICER, OTHER, ROOM, START, Harness, write_cli_config
from tests.test_board_schedule import H as BOARD_H
from tests.test_board_schedule import plan as board_plan
from tests.test_board_schedule import scheduler as board_scheduler
from tests.test_config import GOOD, with_
from tests.test_partner_feed import HOST, REGISTRAR, two_partners
from tests.test_partner_feed import scheduler_for as partner_scheduler
from tests.test_sitrep import scheduler_for

ROOM_B = "!other-op:localhost"
LEAD_B = "@lead-b:localhost"
PARTNER_ROOM = "!partner:localhost"
MARK = "QZXCANARY"
LABEL = re.compile(r"D-[A-Z]{2,4}-\d+")
MEMBERS = (LEAD, OFFICER, OTHER, "@bot:localhost")

# One line per command that shows records, run against `populated`: a new showing
# command must be added here (the registry walk below fails until it is).
SHOWING = {
    ("agency", "list"): "!agency list",
    ("arrest", "list"): "!arrest list country=DE",
    ("asset", "list"): "!asset list",
    ("audit", "verify"): "!audit verify",
    ("board",): "!board",
    ("deconflict", "list"): "!deconflict list",
    ("deconflict", "share"): "!deconflict share {hit}",
    ("export",): "!export json",
    ("form",): "!form F-1",
    ("form", "check"): "!form check F-1",
    ("form", "export"): "!form export F-1 json",
    ("form", "list"): "!form list",
    ("hold", "list"): "!hold list",
    ("log", "consults"): "!log consults",
    ("op",): "!op",
    ("partner", "list"): "!partner list",
    ("preserve", "list"): "!preserve list all",
    ("seize", "list"): "!seize list",
    ("sitrep",): "!sitrep",
    ("takedown", "list"): "!takedown list all",
    ("tally", "list"): "!tally list",
    ("task", "list"): "!task list all",
}


async def populated(h: Harness) -> str:
    """Every kind of record, each personal or free-text field holding MARK; a second
    operation sharing an indicator (a deconfliction hit); returns the hit's label."""
    h.dispatcher.room_members = lambda room: MEMBERS
    h.dispatcher.shared_rooms = lambda user: {PARTNER_ROOM}
    await h.ok("!hhour 2026-11-25T04:00Z")
    await h.ok(f'!task add "call {MARK} task" @{OFFICER[1:]}')
    await h.ok(f'!arrest add {MARK}-REF country=DE agency=DE-BKA charge="{MARK} charge" '
               f'role="{MARK} role"')
    await h.ok(f"!seize domain {MARK.lower()}-site.example country=DE tlp=GREEN")
    await h.ok(f"!seize account {MARK}-acct provider=\"{MARK} provider\"")
    await h.ok("!takedown add S-1 agency=DE-BKA at=H tlp=GREEN")
    await h.ok(f'!asset frozen 1000 EUR "{MARK} asset note" country=DE')
    await h.ok(f'!tally searches +3 "{MARK} tally note"')
    await h.ok(f'!preserve add {MARK}Host country=NL ref={MARK}-PR items=S-1,S-2')
    await h.ok("!preserve draft P-1 form=epoc-pr")
    await h.ok(f'!sitrep note "{MARK} note"')
    await h.ok(f'!partner link {PARTNER_ROOM} name="{MARK} Hosting"')
    await h.ok("!partner assign S-1 K-1 \"" + MARK + " Hosting\"")
    await h.ok('!op init "Operation Northwind" code=NORTHWIND', sender=LEAD_B, room=ROOM_B,
               power=100)
    await h.ok(f"!seize domain {MARK.lower()}-site.example", sender=LEAD_B, room=ROOM_B,
               power=100)
    h.clock.advance(minutes=11)
    await h.db.write(lambda tx: deconflict.release_due(tx, h.clock.now()))
    listing = await h.ok("!deconflict list")
    found = LABEL.search(listing.text)
    assert found, listing.text
    return found.group(0)


@pytest.fixture
async def pop(tmp_path: Path) -> AsyncIterator[tuple[Harness, str]]:
    h = await Harness.open(tmp_path, Settings(deconfliction=True))
    await h.setup_operation()
    hit = await populated(h)
    yield h, hit
    await h.close()


async def count(h: Harness) -> int:
    return len(await h.rows("SELECT id FROM consult_log"))


async def newest(h: Harness) -> dict:
    rows = await h.rows("SELECT * FROM consult_log ORDER BY id DESC LIMIT 1")
    return rows[0]


async def test_every_declared_showing_command_writes_exactly_one_row(
        pop: tuple[Harness, str]) -> None:
    h, hit = pop
    registry.load()
    declared = {path for path, cmd in spec.REGISTRY.items() if cmd.shows is not None}
    assert declared == set(SHOWING), "every showing command needs a line in SHOWING"
    for path, line in sorted(SHOWING.items()):
        before = await count(h)
        reply = await h.send(line.format(hit=hit))
        assert reply.ok, f"{line}: {reply.text}"
        assert await count(h) == before + 1, f"{line} wrote {await count(h) - before} rows"
        row = await newest(h)
        assert row["verb"] == spec.REGISTRY[path].shows
        assert row["scope"].startswith("/" + " ".join(path)), row["scope"]
        assert row["sender"] == LEAD


async def test_commands_that_show_no_records_write_no_row(pop: tuple[Harness, str]) -> None:
    """Every other command, through its declared examples, whatever their outcome."""
    h, _ = pop
    before = await count(h)
    for cmd in spec.REGISTRY.values():
        if cmd.shows is not None:
            continue
        for example in cmd.examples:
            await h.send(example)
    await h.send("!task add \"a new task\"")
    await h.send("!why \"checking a lead\"")
    assert await count(h) == before


async def test_a_refused_showing_command_writes_no_row(pop: tuple[Harness, str]) -> None:
    h, _ = pop
    before = await count(h)
    await h.fails("!task list nonsense")
    await h.fails("!form F-99")
    await h.fails("!export docx")
    await h.fails("!deconflict share D-ZZ-99")
    await h.fails("!arrest list country=ZZZ")
    assert await count(h) == before
    with sqlite3.connect(h.db.path) as raw:  # a record changed behind the audit log
        raw.execute("UPDATE tasks SET text='edited' WHERE seq=1")
    refused = await h.fails("!export md")
    assert "export refused" in refused.text
    assert await count(h) == before
    await h.fails("!audit verify")  # a failed check is still a review of the log
    assert (await newest(h))["verb"] == "log_review"


async def test_a_redelivered_command_writes_no_second_row(pop: tuple[Harness, str]) -> None:
    h, _ = pop
    before = await count(h)
    await h.ok("!task list", event_id="$twice")
    await h.ok("!task list", event_id="$twice")  # not yet marked delivered: sent again
    await h.dispatcher.delivered("$twice")
    await h.send("!task list", event_id="$twice")
    await h.ok("!export md", event_id="$file")
    await h.ok("!export md", event_id="$file")  # the file is made again for the resend
    assert await count(h) == before + 2


async def test_a_row_says_who_from_which_device_what_how_many_to_whom(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    incoming = h.incoming("!arrest list country=DE page=1", sender=OFFICER)
    from dataclasses import replace
    reply = await h.dispatcher.handle(replace(incoming, device_id="PHONEDEVICE"))
    assert reply.ok
    row = await newest(h)
    assert (row["sender"], row["device"], row["verb"]) == (OFFICER, "PHONEDEVICE", "consult")
    assert row["scope"] == "/arrest list country=DE page=1"
    assert row["records"] == 1
    assert row["recipients"] == h.room
    members = await h.rows("SELECT members FROM consult_members WHERE hash=?",
                           (row["members_hash"],))
    assert members and all(m in members[0]["members"] for m in MEMBERS)
    assert row["purpose"] == "operation FIREBREAK"
    assert len(row["shown_mac"]) == 64 and MARK not in row["shown_mac"]


async def test_a_free_value_is_named_in_the_scope_never_written(bare: Harness) -> None:
    registry.load()
    add = spec.REGISTRY[("task", "add")]
    args = add.bind(tokenize(f'"{MARK} text" @{OFFICER[1:]} priority=high tlp=GREEN'),
                    spec.ParseEnv(now=START, zone=ZoneInfo("UTC"), hhour=None))
    assert scope_of(add, args) == "/task add text=… assignee=… priority=high tlp=GREEN"
    await bare.ok('!op init "Operation Firebreak" code=FIREBREAK')
    await bare.ok("!seize list domain status=seized page=1")
    assert (await newest(bare))["scope"] == "/seize list domain status=seized page=1"


async def test_no_consultation_table_holds_a_record_value_in_any_encoding(
        pop: tuple[Harness, str]) -> None:
    h, hit = pop
    for line in SHOWING.values():
        await h.send(line.format(hit=hit))
    for fmt in ("md", "json", "csv", "stix", "misp", "pdf"):
        await h.ok(f"!export {fmt}")
    await h.ok("!form export F-1 pdf")
    assert await count(h) >= len(SHOWING) + 6
    dumped = []
    for table in ("consult_log", "consult_members", "consult_heads", "consult_anchors",
                  "consult_purposes", "shown_events"):
        for row in await h.rows(f"SELECT * FROM {table}"):
            dumped += [str(v) for v in row.values()]
    text = "\n".join(dumped)
    forms = {MARK, MARK.lower(), MARK.encode().hex(), base64.b64encode(MARK.encode()).decode(),
             base64.b64encode(MARK.encode()).decode()[:8]}
    for form in forms:
        assert form not in text, f"{form!r} found in the consultation log"
    # Negative control: the records hold it, and the replies showed it.
    assert MARK in (await h.ok("!task list all")).text


async def test_why_sets_the_purpose_of_the_next_rows_until_it_expires(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    shown = await h.ok("!why", sender=OFFICER)
    assert "operation FIREBREAK" in shown.text
    await h.ok('!why "identify the courier for the EIO"', sender=OFFICER)
    await h.ok("!task list", sender=OFFICER)
    assert (await newest(h))["purpose"] == "identify the courier for the EIO"
    await h.ok("!task list", sender=LEAD)  # each member states their own
    assert (await newest(h))["purpose"] == "operation FIREBREAK"
    assert "identify the courier" in (await h.ok("!why", sender=OFFICER)).text
    h.clock.advance(hours=8, minutes=1)
    await h.ok("!task list", sender=OFFICER)
    assert (await newest(h))["purpose"] == "operation FIREBREAK"


async def test_the_default_purpose_is_the_legal_basis_the_forms_state(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await h.ok('!form set F-1 legal_basis="StGB §263"')
    await h.ok("!task list")
    assert (await newest(h))["purpose"] == "legal basis: StGB §263"


async def verify(h: Harness) -> list[str]:
    return await verify_room(h, h.room)


async def verify_room(h: Harness, room: str) -> list[str]:
    async def q(tx):  # type: ignore[no-untyped-def]
        return (await consultations.verify_room(tx, room)).problems

    return await h.db.read(q)


async def exec_sql(h: Harness, sql: str, params: tuple = ()) -> None:
    async def q(tx):  # type: ignore[no-untyped-def]
        await tx.execute(sql, params)

    await h.db.write(q)


async def chained(h: Harness) -> None:
    for line in ("!task list", "!op", "!seize list", "!arrest list", "!asset list"):
        await h.ok(line)
    assert await verify(h) == []


async def test_an_altered_row_is_reported(pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await chained(h)
    await exec_sql(h, "UPDATE consult_log SET sender='@someone:else' WHERE n=2")
    assert await verify(h) == ["consultation row #2 was altered (its hash does not match its "
                               "content)"]


async def test_a_deleted_row_is_reported(pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await chained(h)
    await exec_sql(h, "DELETE FROM consult_log WHERE n=3")
    assert await verify(h) == ["consultation row #3 is missing (deleted)"]


async def test_a_truncated_tail_is_reported(pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await chained(h)
    top = (await h.rows("SELECT MAX(n) AS n FROM consult_log"))[0]["n"]
    await exec_sql(h, "DELETE FROM consult_log WHERE n >= ?", (top - 1,))
    assert await verify(h) == [f"consultation rows after #{top - 2} up to #{top} are missing "
                               "(deleted)"]


async def test_audit_verify_reports_a_broken_consultation_chain_and_witnesses_its_head(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await chained(h)
    good = await h.ok("!audit verify")
    assert "consultation log intact" in good.text
    assert good.extra_content and "org.opsroom.consult_head" in good.extra_content
    sitrep = await h.ok("!sitrep")
    assert sitrep.extra_content and "org.opsroom.consult_head" in sitrep.extra_content
    assert "Consultation log head #" in sitrep.text
    await exec_sql(h, "DELETE FROM consult_log WHERE n=2")
    bad = await h.fails("!audit verify")
    assert "consultation row #2 is missing (deleted)" in bad.text


async def test_pruning_keeps_the_chain_verifiable_from_its_anchor(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await chained(h)
    old = await count(h)
    h.clock.advance(days=400)
    await h.ok("!task list")
    await h.ok("!op")
    cutoff = h.clock.now() - timedelta(days=1)
    from storage.codec import to_db_time

    deleted = await h.db.write(lambda tx: consultations.prune(tx, to_db_time(cutoff)))
    assert deleted == old and await count(h) == 2
    assert await verify(h) == []
    await exec_sql(h, "UPDATE consult_anchors SET hash=?", ("0" * 64,))
    assert await verify(h) == [f"consultation row #{old + 1} does not follow the previous row "
                               "(chain broken)"]


# -- the log's own retention, the CLI, the scheduled posts ---------------------------------

def test_the_log_is_kept_to_the_end_of_the_year_after_by_default_and_bad_years_name_the_key(
        ) -> None:
    assert parse(GOOD).consultation_log_years == 1
    assert parse(with_("personal_data", consultation_log_years=3)).consultation_log_years == 3
    for bad in (-1, 31, "one", True):
        with pytest.raises(ConfigError, match=r"personal_data\.consultation_log_years"):
            parse(with_("personal_data", consultation_log_years=bad))
    # A row of 2025 goes at the start of 2027, not a day before.
    assert consultations_cutoff(datetime(2026, 12, 31, 23, tzinfo=UTC), 1) == datetime(
        2025, 1, 1, tzinfo=UTC)
    assert consultations_cutoff(datetime(2027, 1, 1, tzinfo=UTC), 1) == datetime(
        2026, 1, 1, tzinfo=UTC)


async def test_housekeeping_prunes_last_years_rows_at_new_year_and_the_chain_verifies(
        h: Harness) -> None:
    h.clock.current = datetime(2025, 6, 1, tzinfo=UTC)
    for _ in range(3):
        await h.ok("!task list")
    h.clock.current = datetime(2026, 12, 31, tzinfo=UTC)
    await h.ok("!op")
    assert await prune_consultations(h.db, h.clock.now(), 1) == 0  # 2025's rows: kept
    h.clock.current = datetime(2027, 1, 1, 0, 1, tzinfo=UTC)
    assert await prune_consultations(h.db, h.clock.now(), 1) == 3
    assert [r["n"] for r in await h.rows("SELECT n FROM consult_log")] == [4]
    await h.ok("!task list")
    assert await verify(h) == []
    await exec_sql(h, "DELETE FROM consult_log WHERE n=4")
    assert await verify(h) == ["consultation row #4 is missing (deleted)"]


def test_the_officer_reads_the_log_on_the_command_line_and_the_reading_is_logged(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def record() -> None:
        h = await Harness.open(tmp_path)
        await h.setup_operation()
        await h.ok(f'!arrest add {MARK} country=DE agency=DE-BKA')
        await h.ok('!why "check the courier"', sender=OFFICER)
        await h.ok("!arrest list country=DE", sender=OFFICER)
        await h.ok("!export csv")
        await h.close()

    asyncio.run(record())
    config = write_cli_config(tmp_path)
    assert cli.main(["log", "consults", "-c", str(config), "--room", ROOM,
                     "--since", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert f"consultation log of {ROOM} since 2026-11-01T00:00:00Z: 2 rows" in out
    assert (f'#1 2026-11-24T12:00:00Z {OFFICER} (device -) consult "/arrest list country=DE" '
            f"· 1 records · to {ROOM} [] · purpose: check the courier") in out
    assert '#2 2026-11-24T12:00:00Z @lead:localhost (device -) disclose "/export csv"' in out
    assert "(this review is logged as row #3)" in out
    assert MARK not in out
    assert cli.main(["log", "consults", "-c", str(config), "--room", ROOM,
                     "--since", "2026-11-01"]) == 0
    again = capsys.readouterr().out
    assert "log_review \"opsroom log consults --since 2026-11-01T00:00:00Z\" · 2 records" in again
    assert cli.main(["audit", "verify", "-c", str(config), "--local"]) == 0
    assert f"{ROOM}: consultation log intact (4 rows)" in capsys.readouterr().out
    assert cli.main(["log", "consults", "-c", str(config), "--room", ROOM,
                     "--since", "last week"]) == cli.EXIT_BAD_INPUT


async def test_a_scheduled_sitrep_is_logged_as_the_bots_disclosure_to_the_room(
        h: Harness) -> None:
    await h.ok("!sitrep every 1h")
    await h.ok('!task add "call the prosecutor"')
    sched, sink = await scheduler_for(h)
    sched.audience = lambda room: ("@bot:localhost", MEMBERS)
    before = await count(h)
    h.clock.advance(hours=1, seconds=5)
    await sched.reconcile()
    assert len(sink.posts) == 1
    assert await count(h) == before + 1
    row = await newest(h)
    assert (row["sender"], row["verb"], row["purpose"], row["scope"]) == (
        "@bot:localhost", "disclose", "scheduled sitrep", "scheduled sitrep")
    assert row["device"] is None and row["event_id"] is None
    await sched.reconcile()  # nothing due: nothing posted, nothing logged
    assert await count(h) == before + 1


async def test_a_scheduled_board_is_logged_as_the_bots_disclosure_of_its_takedowns(
        h: Harness) -> None:
    await board_plan(h)
    sched, sink = board_scheduler(h)
    sched.audience = lambda room: ("@bot:localhost", MEMBERS)
    before = await count(h)
    h.clock.current = BOARD_H - timedelta(minutes=15, seconds=-5)
    await sched.reconcile()
    assert len(sink.posts) == 1
    assert await count(h) == before + 1
    row = await newest(h)
    assert (row["sender"], row["verb"], row["purpose"], row["records"]) == (
        "@bot:localhost", "disclose", "scheduled board", 2)
    await sched.reconcile()  # posted already: nothing more
    assert await count(h) == before + 1


class ConsultHeads:
    """The room's history as a list: the consultation heads the bot posted."""

    def __init__(self) -> None:
        self.posted: list[WitnessedHead] = []

    def keep(self, reply: Reply, at: datetime) -> None:
        head = parse_head(reply.extra_content or {}, CONSULT_WITNESS_KEY)
        assert head is not None, reply.extra_content
        self.posted.append(WitnessedHead(head.n, head.hash, f"$post{len(self.posted)}", at))

    async def heads(self, room_id: str) -> RoomHeads:
        return RoomHeads([], consults=list(self.posted))


def rewrite_consultations(path: Path, room_id: str, n: int, purpose: str) -> None:
    """What the database's holder can do: change row #n and recompute every hash after it
    and the head, so the chain verifies again; only the heads in the room show it."""
    with sqlite3.connect(path) as raw:
        raw.row_factory = sqlite3.Row
        raw.execute("UPDATE consult_log SET purpose=? WHERE room_id=? AND n=?",
                    (purpose, room_id, n))
        prev = raw.execute("SELECT hash FROM consult_log WHERE room_id=? AND n=?",
                           (room_id, n - 1)).fetchone()["hash"]
        for row in [dict(r) for r in raw.execute(
                "SELECT * FROM consult_log WHERE room_id=? AND n>=? ORDER BY n", (room_id, n))]:
            row["prev_hash"] = prev
            row["hash"] = prev = consultations.entry_hash(row)
            raw.execute("UPDATE consult_log SET prev_hash=?, hash=? WHERE id=?",
                        (row["prev_hash"], row["hash"], row["id"]))
            raw.execute("UPDATE consult_heads SET n=?, hash=? WHERE room_id=?",
                        (row["n"], row["hash"], room_id))


async def test_a_rewritten_chain_that_verifies_is_caught_by_the_heads_posted_in_the_room(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await chained(h)
    room = ConsultHeads()
    h.dispatcher.witness = room
    room.keep(await h.ok("!audit verify"), h.clock.now())
    witnessed = room.posted[-1].n
    rewrite_consultations(h.db.path, h.room, 2, "nothing to see")
    assert await verify(h) == []  # the local chain alone cannot tell
    caught = await h.fails("!audit verify")
    assert (f"consultation log: entries #1..#{witnessed} rewritten after they were witnessed "
            "in the room") in caught.text


async def test_a_lead_reads_the_rooms_log_in_the_room_and_the_reading_is_logged(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    await h.ok('!why "check the courier"', sender=OFFICER)
    await h.ok("!arrest list country=DE", sender=OFFICER)
    await h.ok("!op")
    refused = await h.fails("!log consults", sender=OFFICER)
    assert "only a lead" in refused.text
    before = await count(h)
    shown = await h.ok(f"!log consults @{OFFICER[1:]} since=-1h")
    assert "Consultation log since" in shown.text and ": 1 row" in shown.text
    assert (f"{OFFICER} (device -) consult /arrest list country=DE · 1 records · purpose: "
            "check the courier") in shown.text
    assert "/op" not in shown.text and MARK not in shown.text
    assert await count(h) == before + 1
    row = await newest(h)
    assert (row["verb"], row["scope"], row["records"]) == (
        "log_review", "/log consults user=… since=…", 1)


async def test_a_file_made_again_after_a_restart_is_logged_once_as_its_command(
        pop: tuple[Harness, str]) -> None:
    h, _ = pop
    from dataclasses import replace

    await h.ok('!why "brief the prosecutor"', sender=OFFICER)
    msg = replace(h.incoming("!export csv", sender=OFFICER), device_id="LAPTOP")
    committed = await h.dispatcher.commit(msg)  # the bot dies before the file is made
    assert committed.after_commit is not None
    before = await count(h)
    restarted = Dispatcher(h.db, Settings(deconfliction=True), h.clock,
                           exporter=h.dispatcher.exporter)
    h.clock.advance(minutes=5)
    [owed] = [r for room, e, r in await restarted.undelivered() if e == msg.event_id]
    assert owed.after_commit is not None
    sent = await restarted.finish(owed)
    assert sent.ok and sent.attachment is not None
    assert await count(h) == before + 1
    row = await newest(h)
    assert (row["sender"], row["device"], row["purpose"], row["verb"], row["scope"]) == (
        OFFICER, "LAPTOP", "brief the prosecutor", "disclose", "/export csv")
    [again] = [r for room, e, r in await restarted.undelivered() if e == msg.event_id]
    await restarted.finish(again)
    assert await count(h) == before + 1


async def test_a_partners_scheduled_update_is_logged_in_the_partner_rooms_own_chain(
        h: Harness) -> None:
    await two_partners(h)
    await h.ok("!sitrep every 1h")
    sched, sink = partner_scheduler(h)
    h.clock.current = datetime(2026, 11, 24, 13, 0, 5, tzinfo=UTC)
    await sched.reconcile()
    assert len(sink.to(HOST)) == len(sink.to(REGISTRAR)) == 1
    rows = await h.rows("SELECT room_id, sender, verb, purpose, records FROM consult_log "
                        "ORDER BY id")
    assert [(r["room_id"], r["verb"], r["purpose"]) for r in rows] == [
        (h.room, "disclose", "scheduled sitrep"),
        (HOST, "disclose", "scheduled sitrep"),
        (REGISTRAR, "disclose", "scheduled sitrep")]
    assert rows[1]["records"] == 2  # S-1 and K-1, Example Hosting's
    assert await verify_room(h, HOST) == []
