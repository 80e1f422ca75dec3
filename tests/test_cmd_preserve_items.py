"""The identifiers a preservation / MLA request names (S-n on a P-n), and follow-the-hop
requests (Budapest Convention art. 30) that carry them over to the next provider."""

from __future__ import annotations

import json

from storage import preservations
from tests.harness import LEAD, OFFICER, OTHER, Harness
from tests.store_helpers import OTHER_ROOM, other_operation


async def seized(h: Harness, n: int = 3) -> None:
    for i in range(1, n + 1):
        await h.ok(f"!seize ip 203.0.113.{i}", sender=OFFICER)


async def named(h: Harness, seq: int) -> list[str]:
    """The S-n the request P-`seq` names, as the store reads them for a draft."""
    [request] = await h.rows("SELECT id FROM preservations WHERE seq=?", (seq,))
    rows = await h.db.read(lambda tx: preservations.items(tx, request["id"]))
    return [f"S-{row['seq']}" for row in rows]


async def links(h: Harness) -> int:
    return len(await h.rows("SELECT id FROM preservation_items"))


async def test_a_request_added_with_items_names_them_and_says_so(h: Harness) -> None:
    await seized(h)
    reply = await h.ok("!preserve add ExampleHost country=NL items=S-3,S-1", sender=OFFICER)
    assert "P-1 preservation ExampleHost (NL)" in reply.text
    assert "items S-1, S-3" in reply.text
    assert await named(h, 1) == ["S-1", "S-3"]


async def test_an_unknown_seized_item_is_refused_and_nothing_is_recorded(h: Harness) -> None:
    await seized(h, 1)
    reply = await h.fails("!preserve add ExampleHost country=NL items=S-1,S-9", sender=OFFICER)
    assert "there is no seized item S-9 in this operation" in reply.text
    assert await h.rows("SELECT id FROM preservations") == []
    assert await links(h) == 0
    await h.ok("!preserve add ExampleHost country=NL", sender=OFFICER)
    reply = await h.fails("!preserve link P-1 S-1 S-7", sender=OFFICER)
    assert "there is no seized item S-7 in this operation" in reply.text
    assert await links(h) == 0


async def test_a_seized_item_of_another_operation_cannot_be_named(h: Harness) -> None:
    await other_operation(h)
    await h.ok("!seize ip 198.51.100.1", room=OTHER_ROOM)
    reply = await h.fails("!preserve add ExampleHost country=NL items=S-1", sender=OFFICER)
    assert "there is no seized item S-1 in this operation" in reply.text
    assert await links(h) == 0


async def test_link_adds_items_and_linking_one_already_named_says_so(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL items=S-1", sender=OFFICER)
    reply = await h.ok("!preserve link P-1 S-3,S-2", sender=OFFICER)
    assert reply.text == "P-1 now names S-1, S-2, S-3"
    reply = await h.fails("!preserve link P-1 S-3", sender=OFFICER)
    assert "S-3 is already named on P-1; nothing was changed" in reply.text
    assert await links(h) == 3


async def test_unlink_takes_items_off_and_refuses_one_not_named(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL items=S-1,S-2,S-3", sender=OFFICER)
    assert (await h.ok("!preserve unlink P-1 S-2", sender=OFFICER)).text == (
        "P-1 now names S-1, S-3")
    reply = await h.fails("!preserve unlink P-1 S-1 S-2", sender=OFFICER)
    assert "S-2 is not named on P-1; nothing was changed" in reply.text
    assert await named(h, 1) == ["S-1", "S-3"]
    assert (await h.ok("!preserve unlink P-1 S-1 S-3", sender=OFFICER)).text == (
        "P-1 names no seized item now")


async def test_only_the_requests_author_or_a_lead_links_and_unlinks(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL", sender=OFFICER)
    reply = await h.fails("!preserve link P-1 S-1", sender=OTHER)
    assert f"P-1 was recorded by {OFFICER}: only they or a lead can change it" in reply.text
    assert await links(h) == 0
    await h.ok("!preserve link P-1 S-1", sender=LEAD)
    assert (await h.fails("!preserve unlink P-1 S-1", sender=OTHER)).ok is False
    assert await named(h, 1) == ["S-1"]


async def test_links_are_audited_and_undone(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL", sender=OFFICER)
    await h.ok("!preserve link P-1 S-2", sender=OFFICER)
    [entry] = await h.rows("SELECT sender, action, after FROM audit_log "
                           "WHERE tbl='preservation_items'")
    assert entry["sender"] == OFFICER and entry["action"] == "insert"
    assert json.loads(entry["after"])["created_by"] == OFFICER
    await h.ok("!undo", sender=OFFICER)
    assert await named(h, 1) == []
    await h.ok("!preserve link P-1 S-2", sender=OFFICER)
    await h.ok("!preserve unlink P-1 S-2", sender=OFFICER)
    actions = [e["action"] for e in await h.rows(
        "SELECT action FROM audit_log WHERE tbl='preservation_items' ORDER BY n")]
    assert actions == ["insert", "delete", "insert", "delete"]
    await h.ok("!undo", sender=OFFICER)
    assert await named(h, 1) == ["S-2"]


async def test_undoing_a_request_with_items_removes_them_with_it(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL items=S-1,S-2", sender=OFFICER)
    await h.ok("!undo", sender=OFFICER)
    assert await h.rows("SELECT id FROM preservations") == []
    assert await links(h) == 0


async def test_a_seized_item_named_on_a_request_cannot_be_undone_away(h: Harness) -> None:
    await seized(h, 1)
    await h.ok("!preserve add ExampleHost country=NL items=S-1", sender=OTHER)
    reply = await h.fails("!undo", sender=OFFICER)
    assert "S-1 is used by P-1 since your last change" in reply.text
    assert "internal error" not in reply.text
    assert len(await h.rows("SELECT id FROM seizures")) == 1


async def test_list_shows_the_items_and_the_request_followed(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL items=S-1,S-2", sender=OFFICER)
    await h.ok("!preserve add ExampleTransit country=DE from=P-1", sender=OFFICER)
    await h.ok("!preserve add Other country=FR", sender=OFFICER)
    lines = (await h.ok("!preserve list")).text.splitlines()
    [first] = [line for line in lines if "P-1" in line and "ExampleHost" in line]
    [child] = [line for line in lines if "P-2" in line]
    [plain] = [line for line in lines if "P-3" in line]
    assert first.endswith("· items S-1, S-2") and "←" not in first
    assert "← P-1 · items S-1, S-2" in child
    assert "←" not in plain and "items" not in plain


async def test_follow_the_hop_carries_the_parents_items_over(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL items=S-1,S-3 tlp=RED kind=mla",
               sender=OFFICER)
    reply = await h.ok("!preserve add ExampleTransit country=DE from=P-1", sender=OFFICER)
    assert "P-2 mla ExampleTransit (DE)" in reply.text
    assert "← P-1 · items S-1, S-3" in reply.text
    assert await named(h, 2) == ["S-1", "S-3"]
    [child] = await h.rows("SELECT c.tlp, p.seq AS parent FROM preservations c "
                           "JOIN preservations p ON p.id = c.parent_id")
    assert child == {"tlp": "RED", "parent": 1}


async def test_follow_the_hop_with_items_carries_only_those(h: Harness) -> None:
    await seized(h)
    await h.ok("!preserve add ExampleHost country=NL items=S-1,S-2,S-3", sender=OFFICER)
    reply = await h.ok("!preserve add ExampleTransit country=DE from=P-1 items=S-2",
                       sender=OFFICER)
    assert "← P-1 · items S-2" in reply.text
    assert await named(h, 2) == ["S-2"]
    assert await named(h, 1) == ["S-1", "S-2", "S-3"]


async def test_follow_the_hop_from_a_request_that_does_not_exist_is_refused(h: Harness) -> None:
    await seized(h, 1)
    reply = await h.fails("!preserve add ExampleTransit country=DE from=P-4 items=S-1",
                          sender=OFFICER)
    assert "there is no preservation/MLA request P-4 in this operation" in reply.text
    assert await h.rows("SELECT id FROM preservations") == []
    assert await links(h) == 0


async def test_a_followed_request_cannot_be_undone_away(h: Harness) -> None:
    await h.ok("!preserve add ExampleHost country=NL", sender=OTHER)
    await h.ok("!preserve add ExampleTransit country=DE from=P-1", sender=OFFICER)
    reply = await h.fails("!undo", sender=OTHER)
    assert "P-1 is used by P-2 since your last change" in reply.text
    assert len(await h.rows("SELECT id FROM preservations")) == 2


async def test_undo_names_the_items_it_takes_off_by_their_records(h: Harness) -> None:
    await seized(h, 2)
    await h.ok("!preserve add ExampleHost country=NL", sender=OFFICER)
    await h.ok("!preserve link P-1 S-2", sender=OFFICER)
    reply = await h.ok("!undo", sender=OFFICER)
    assert "identifier named on a request (P-1, S-2) removed" in reply.text
