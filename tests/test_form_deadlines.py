"""The deadlines a request form sets running land on its request and remind the room on time,
once; a request confirmed under Annex V stops running out; a drafted request extends by
what its form allows, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import request_deadlines
from storage.audit import Actor
from storage.codec import to_db_time
from storage.tx import Tx
from tests.harness import LEAD, START, Harness
from tests.store_helpers import OTHER_ROOM, op_id, other_operation
from tests.test_sitrep import scheduler_for

SENT = START  # /preserve add sends now by default


async def draft(h: Harness, form: str, request: int = 1, room: str | None = None) -> int:
    """A form row for P-`request`, as `/preserve draft` leaves one; returns its id."""
    room = room or h.room
    operation = await op_id(h, room)

    async def insert(tx: Tx) -> int:
        p = await tx.one("SELECT id FROM preservations WHERE op_id=? AND seq=?",
                         (operation, request))
        assert p is not None
        seq = await tx.next_seq(operation, "F")
        row = await tx.insert("forms", {
            "op_id": operation, "seq": seq, "preservation_id": p["id"], "form": form,
            "lang": "en", "tlp": "AMBER", "created_by": LEAD, "created_at": to_db_time(SENT),
            "updated_at": to_db_time(SENT)})
        return int(row["id"])

    return await h.db.write(insert, actor=Actor(room, LEAD, f"$draft-{form}-{request}",
                                                "!preserve draft", to_db_time(SENT)))


async def set_deadlines(h: Harness, form_id: int, *deadlines: tuple[str, datetime],
                        room: str | None = None) -> bool:
    room = room or h.room
    operation = await op_id(h, room)

    async def replace(tx: Tx) -> bool:
        form = await tx.get("forms", form_id)
        assert form is not None
        return await request_deadlines.replace(
            tx, operation, form["preservation_id"], form_id,
            [(kind, to_db_time(due)) for kind, due in deadlines], LEAD, to_db_time(SENT))

    return await h.db.write(replace, actor=Actor(room, LEAD, f"$set-{len(deadlines)}",
                                                 "!form set", to_db_time(SENT)))


async def held(h: Harness) -> list[tuple[str, str]]:
    return [(r["kind"], r["due_at"]) for r in await h.rows(
        "SELECT kind, due_at FROM request_deadlines ORDER BY kind")]


async def at(h: Harness, when: datetime) -> None:
    h.clock.current = when


# -- storage --------------------------------------------------------------------------------

async def test_a_forms_deadlines_become_exactly_those_given_each_change_audited(
        h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    form = await draft(h, "epoc")
    production, validation = SENT + timedelta(days=10), SENT + timedelta(hours=48)
    assert await set_deadlines(h, form, ("production", production), ("validation", validation))
    assert await held(h) == [("production", to_db_time(production)),
                             ("validation", to_db_time(validation))]
    assert not await set_deadlines(h, form, ("production", production),
                                   ("validation", validation))
    earlier = SENT + timedelta(hours=8)
    assert await set_deadlines(h, form, ("production", earlier))
    assert await held(h) == [("production", to_db_time(earlier))]
    audit = await h.rows("SELECT action FROM audit_log WHERE tbl='request_deadlines' "
                         "ORDER BY id")
    assert [row["action"] for row in audit] == ["insert", "insert", "update", "delete"]


async def test_only_deadlines_of_open_requests_in_this_operation_and_in_time_are_due(
        h: Harness) -> None:
    await h.ok("!preserve add Open country=NL")
    await h.ok("!preserve add Done country=NL")
    await h.ok("!preserve add Confirmed country=NL")
    await h.ok("!preserve status P-2 fulfilled")
    await h.ok("!preserve status P-3 confirmed")
    for request in (1, 2, 3):
        await set_deadlines(h, await draft(h, "epoc", request),
                            ("production", SENT + timedelta(days=request)))
    await other_operation(h)
    await h.ok("!preserve add Elsewhere country=NL", room=OTHER_ROOM)
    await set_deadlines(h, await draft(h, "epoc", 1, OTHER_ROOM),
                        ("production", SENT + timedelta(days=1)), room=OTHER_ROOM)
    operation = await op_id(h)

    async def providers(until: datetime) -> list[str]:
        rows = await h.db.read(lambda tx: request_deadlines.open_due(tx, operation,
                                                                    to_db_time(until)))
        return [row["provider"] for row in rows]

    assert await providers(SENT + timedelta(days=5)) == ["Open", "Confirmed"]
    assert await providers(SENT + timedelta(days=2)) == ["Open"]


# -- reminders ------------------------------------------------------------------------------

async def test_a_production_deadline_reminds_a_day_ahead_and_when_due_each_once(
        h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL expires=+60d")
    due = SENT + timedelta(days=10)
    await set_deadlines(h, await draft(h, "epoc"), ("production", due))
    sched, sink = await scheduler_for(h)
    await at(h, due - timedelta(days=1, seconds=1))
    await sched.post_reminders()
    assert sink.posts == []
    await at(h, due - timedelta(days=1) + timedelta(seconds=30))
    await sched.post_reminders()
    await sched.post_reminders()
    assert [p[1] for p in sink.posts] == [
        "⏰ F-1 (EPOC) for P-1 ExampleHost: production due 041200ZDEC26 "
        "(Dec 4, 2026, 13:00, in 23h59m)"]
    restarted, sink2 = await scheduler_for(h)
    await at(h, due - timedelta(seconds=1))
    await restarted.post_reminders()
    assert sink2.posts == []
    await at(h, due + timedelta(seconds=20))
    await restarted.post_reminders()
    await restarted.post_reminders()
    assert [p[1] for p in sink2.posts] == [
        "⏰ F-1 (EPOC) for P-1 ExampleHost: production due now, 041200ZDEC26 "
        "(Dec 4, 2026, 13:00)"]


async def test_an_emergency_production_reminds_two_hours_ahead(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    due = SENT + timedelta(hours=8)
    await set_deadlines(h, await draft(h, "epoc"), ("production", due))
    sched, sink = await scheduler_for(h)
    await at(h, due - timedelta(hours=2, seconds=1))
    await sched.post_reminders()
    assert sink.posts == []
    await at(h, due - timedelta(hours=2))
    await sched.post_reminders()
    assert len(sink.posts) == 1 and "production due 242000ZNOV26" in sink.posts[0][1]
    assert "in 2h" in sink.posts[0][1]


async def test_an_unvalidated_emergency_order_is_reminded_to_be_validated_within_48_hours(
        h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    due = SENT + timedelta(hours=48)
    await set_deadlines(h, await draft(h, "epoc-pr"), ("validation", due))
    sched, sink = await scheduler_for(h)
    await at(h, due - timedelta(days=1, seconds=1))
    await sched.post_reminders()
    assert sink.posts == []
    await at(h, due - timedelta(days=1))
    await sched.post_reminders()
    await at(h, due)
    await sched.post_reminders()
    texts = [p[1] for p in sink.posts]
    assert [t.splitlines()[0] for t in texts] == [
        "⏰ F-1 (EPOC-PR) for P-1 ExampleHost: validation due 261200ZNOV26 "
        "(Nov 26, 2026, 13:00, in 1d)",
        "⏰ F-1 (EPOC-PR) for P-1 ExampleHost: validation due now, 261200ZNOV26 "
        "(Nov 26, 2026, 13:00)"]
    assert all("must be validated within 48 hours (Regulation (EU) 2023/1543 art. 4(5)) or "
               "withdrawn" in t for t in texts)


async def test_after_downtime_only_the_due_reminder_is_posted_marked_late(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    due = SENT + timedelta(days=10)
    await set_deadlines(h, await draft(h, "epoc"), ("production", due))
    sched, sink = await scheduler_for(h)
    await at(h, due + timedelta(hours=3))
    await sched.post_reminders()
    await sched.post_reminders()
    assert len(sink.posts) == 1
    assert "production due now" in sink.posts[0][1] and "late" in sink.posts[0][1]


async def test_a_request_no_longer_open_gets_no_deadline_reminder(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    due = SENT + timedelta(days=10)
    await set_deadlines(h, await draft(h, "epoc"), ("production", due))
    await h.ok("!preserve status P-1 fulfilled")
    sched, sink = await scheduler_for(h)
    for moment in (due - timedelta(days=1), due):
        await at(h, moment)
        await sched.post_reminders()
    assert sink.posts == []


# -- confirmed and extended -----------------------------------------------------------------

async def test_a_confirmed_request_stays_open_but_no_longer_expires(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL expires=+10d")
    await draft(h, "epoc-pr")
    reply = (await h.ok("!preserve status P-1 confirmed")).text
    assert "[confirmed]" in reply and "P-1 stays open and no longer expires" in reply
    assert "P-1" in (await h.ok("!preserve list")).text
    sched, sink = await scheduler_for(h)
    for days in (3, 9, 10):
        await at(h, SENT + timedelta(days=days))
        await sched.post_reminders()
    assert sink.posts == []
    report = (await h.ok("!sitrep")).text
    assert "Preservation/MLA: 1 open" in report and "expiring" not in report


async def test_an_open_request_still_reminds_and_is_expiring_in_the_sitrep(
        h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL expires=+10d")
    sched, sink = await scheduler_for(h)
    await at(h, SENT + timedelta(days=3, minutes=1))
    await sched.post_reminders()
    assert len(sink.posts) == 1 and "P-1" in sink.posts[0][1]
    assert "expiring ≤7d: P-1 ExampleHost" in (await h.ok("!sitrep")).text


async def test_a_2703f_preservation_cannot_be_confirmed(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=US expires=+90d")
    await draft(h, "2703f")
    reply = await h.fails("!preserve status P-1 confirmed")
    assert "90 days" in reply.text and "extended" in reply.text
    assert (await h.rows("SELECT status FROM preservations"))[0]["status"] == "sent"


async def test_an_epoc_pr_extends_once_by_30_days_from_its_current_expiry(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    await draft(h, "epoc-pr")
    reply = await h.ok("!preserve status P-1 extended")
    assert "[extended]" in reply.text
    assert "Extended by 30 days from the previous expiry, as F-1 (EPOC-PR) allows once." \
        in reply.text
    [row] = await h.rows("SELECT status, expires_at FROM preservations")
    assert row == {"status": "extended",
                   "expires_at": to_db_time(SENT + timedelta(days=90))}
    again = await h.fails("!preserve status P-1 extended")
    assert "already extended" in again.text and "once" in again.text
    [row] = await h.rows("SELECT expires_at FROM preservations")
    assert row["expires_at"] == to_db_time(SENT + timedelta(days=90))


async def test_a_2703f_letter_renews_by_90_days(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=US expires=+90d")
    await draft(h, "2703f")
    await h.ok("!preserve status P-1 extended")
    [row] = await h.rows("SELECT expires_at FROM preservations")
    assert row["expires_at"] == to_db_time(SENT + timedelta(days=180))


async def test_a_request_whose_form_has_no_extension_needs_the_new_expiry(
        h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    await draft(h, "art29")
    reply = await h.fails("!preserve status P-1 extended")
    assert "expires=" in reply.text
    assert (await h.rows("SELECT status FROM preservations"))[0]["status"] == "sent"
    await h.ok("!preserve status P-1 extended expires=+90d")


async def test_a_request_without_a_form_needs_the_new_expiry_to_be_extended(
        h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL")
    reply = await h.fails("!preserve status P-1 extended")
    assert "no form draft" in reply.text and "expires=+90d" in reply.text
    [row] = await h.rows("SELECT status, expires_at FROM preservations")
    assert row == {"status": "sent", "expires_at": to_db_time(SENT + timedelta(days=60))}

