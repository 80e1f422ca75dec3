"""Which language a member reads: /lang (their own, audited, in this operation only), their
agency's (lang= on /agency add), the room's (/op lang, a lead's), the bot's default.

These check `Reply.lang`, the language a reply was built in, not the translated text: what
each catalogue says is the translators' business, which language is in force is ours."""

from __future__ import annotations

import json

from tests.harness import LEAD, OFFICER, OTHER, Harness
from tests.languages import languages_seen

SPANISH = "@guardia:localhost"
ROOM2 = "!second:localhost"


async def lang_of(h: Harness, sender: str, room: str | None = None) -> str:
    """The language `sender`'s next reply is written in (a command anyone may send)."""
    return (await h.ok("!help", sender=sender, room=room)).lang


async def test_lang_alone_shows_the_language_and_the_choices(h: Harness) -> None:
    reply = await h.ok("!lang", sender=OFFICER)
    assert reply.lang == "en"
    assert "English (en)" in reply.text
    for code in ("en", "fr", "es", "ar"):
        assert f"{code} (" in reply.text.splitlines()[-1]
    assert "/lang CODE" in reply.text


async def test_an_unknown_language_is_refused_naming_the_choices(h: Harness) -> None:
    reply = await h.fails("!lang xx", sender=OFFICER)
    assert "'xx'" in reply.text
    for code in ("en", "fr", "es", "ar"):
        assert f"{code} (" in reply.text
    assert reply.text.splitlines()[-1] == "Usage: /lang [en|fr|es|ar]"
    assert await h.rows("SELECT * FROM member_languages") == []
    assert await lang_of(h, OFFICER) == "en"


async def test_lang_is_audited_and_changes_only_that_members_replies(h: Harness) -> None:
    chosen = await h.ok("!lang fr", sender=OFFICER)
    assert chosen.lang == "fr"  # the answer is already in the new language
    [entry] = await h.rows("SELECT * FROM audit_log WHERE tbl='member_languages'")
    assert entry["sender"] == OFFICER and entry["action"] == "insert"
    assert json.loads(entry["after"])["lang"] == "fr"
    assert await lang_of(h, OFFICER) == "fr"
    assert await lang_of(h, OTHER) == "en"
    assert await lang_of(h, LEAD) == "en"
    # an error is in the member's language too
    assert (await h.fails("!task done X-1", sender=OFFICER)).lang == "fr"
    # changing it again is an update, audited as well
    await h.ok("!lang ES", sender=OFFICER)
    assert await lang_of(h, OFFICER) == "es"
    actions = [r["action"] for r in await h.rows(
        "SELECT action FROM audit_log WHERE tbl='member_languages' ORDER BY n")]
    assert actions == ["insert", "update"]


async def test_an_agencys_language_holds_unless_the_member_chose_their_own(h: Harness) -> None:
    await h.ok("!agency add ES-PN country=ES tz=Europe/Madrid lang=es")
    await h.ok(f"!member {SPANISH} agency=ES-PN")
    await h.ok(f"!member {OTHER} agency=ES-PN")
    assert await lang_of(h, SPANISH) == "es"
    assert await lang_of(h, OTHER) == "es"
    assert await lang_of(h, OFFICER) == "en"  # DE-BKA has no language of its own
    await h.ok("!lang fr", sender=OTHER)
    assert await lang_of(h, OTHER) == "fr"
    assert await lang_of(h, SPANISH) == "es"


async def test_the_rooms_language_is_a_leads_and_holds_for_members_without_one(h: Harness
                                                                               ) -> None:
    await h.ok("!agency add ES-PN country=ES tz=Europe/Madrid lang=es")
    await h.ok(f"!member {SPANISH} agency=ES-PN")
    await h.ok("!lang fr", sender=OTHER)
    refused = await h.fails("!op lang ar", sender=OFFICER)
    assert refused.lang == "en"
    assert await lang_of(h, OFFICER) == "en"
    await h.ok("!op lang ar", sender=LEAD)
    assert await lang_of(h, OFFICER) == "ar"  # DE-BKA: no language, the room's
    assert await lang_of(h, LEAD) == "ar"  # FR-OFAC: no language, the room's
    assert await lang_of(h, SPANISH) == "es"  # the agency's
    assert await lang_of(h, OTHER) == "fr"  # their own


async def test_a_choice_in_one_operation_does_not_change_another(h: Harness) -> None:
    await h.ok('!op init "Operation Second" code=SECOND tz=UTC', room=ROOM2)
    await h.ok("!lang fr", sender=OFFICER)
    assert await lang_of(h, OFFICER) == "fr"
    assert await lang_of(h, OFFICER, ROOM2) == "en"
    await h.ok("!lang ar", sender=OFFICER, room=ROOM2)
    assert await lang_of(h, OFFICER, ROOM2) == "ar"
    assert await lang_of(h, OFFICER) == "fr"
    shown = await h.ok("!lang", sender=OFFICER, room=ROOM2)
    assert shown.lang == "ar"
    rows = await h.rows("SELECT o.code, l.lang FROM member_languages l "
                        "JOIN operations o ON o.id = l.op_id ORDER BY o.code")
    assert [(r["code"], r["lang"]) for r in rows] == [("FIREBREAK", "fr"), ("SECOND", "ar")]


async def test_a_language_chosen_while_the_bot_was_away_is_the_whole_answers(
        h: Harness) -> None:
    """Answered late, a reply says when it was sent and handled: in the language the
    command just chose, like the rest of the answer (seen in an Arabic room: the note was
    Arabic under a French answer)."""
    await h.ok("!op lang ar")
    sent = h.incoming("!lang fr", sender=OFFICER)
    h.clock.advance(minutes=5)
    reply = await h.dispatcher.handle(sent)
    assert reply.lang == "fr" and reply.text.count("\n") == 1, reply.text
    assert languages_seen(reply.text) == {"fr"}, reply.text
