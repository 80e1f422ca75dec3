"""No reply shows a raw bidi control or invisible character, and no command stores one."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.core.reply import Bold, Code, ReplyBuilder, error, notice_content
from commands.core.types import Reply
from commands.core.visible import first_invisible, visible
from tests.harness import OFFICER, Harness
from tests.test_dispatcher_fuzz import SEEDS, World

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]
INVISIBLE = [*BIDI, "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e",
             "\u3164", "\u115f", "\ufe0f", "\U000e0041", "\x1b", "\r", "\u2028", "\ud800"]
# Every format (Cf) character of the running Python's Unicode, plus the other
# default-ignorable ones: the bot must never put one in front of the room.
FORMAT_CHARS = [chr(c) for c in range(sys.maxunicode + 1)
                if unicodedata.category(chr(c)) == "Cf"]
DANGEROUS = st.sampled_from(sorted(set(INVISIBLE + FORMAT_CHARS)))


def raw_in(reply: Reply) -> list[str]:
    """Dangerous characters in a reply's text or HTML; emoji sequences (⚠️, 👩‍💻) are fine."""
    return [f"U+{ord(ch):04X}" for text in (reply.text, reply.html)
            for ch in [found[1] for found in [first_invisible(text)] if found]]


def test_every_format_character_is_shown_as_an_escape() -> None:
    for ch in FORMAT_CHARS:
        shown = visible(f"a{ch}b")
        assert ch not in shown and f"<U+{ord(ch):04X}>" in shown, hex(ord(ch))


def test_emoji_keep_their_joiners_and_variation_selectors() -> None:
    for emoji in ("⚠️", "👩‍💻", "🏳️‍🌈", "❤️‍🔥", "1️⃣", "👍🏽"):
        assert visible(f"x {emoji} y") == f"x {emoji} y"
    assert visible("a\u200db") == "a<U+200D>b"  # a joiner between letters is not an emoji


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.text(max_size=8), DANGEROUS), max_size=12).map("".join))
def test_no_reply_built_from_any_text_carries_one(text: str) -> None:
    built = (ReplyBuilder().heading(text).line("⚠️ ", text, Bold(text), Code(text))
             .bullets([[text, Bold(text)]]).build())
    assert raw_in(built) == []
    assert raw_in(error(text, usage=text)) == []
    # A reply made without the builder (a stored one sent again) is cleaned where it is sent.
    sent = notice_content(text, text, None)
    assert raw_in(Reply(ok=True, text=sent["body"], html=sent["formatted_body"])) == []


@st.composite
def seeded_with_invisibles(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(1, len(line)))
        line = line[:pos] + draw(DANGEROUS) + line[pos:]
    return line


def test_commands_holding_them_get_answers_without_them() -> None:
    world = World(with_operation=True)
    seen_refusals = 0

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(st.one_of(seeded_with_invisibles(),
                     st.tuples(st.sampled_from(["/", "!"]), st.text(min_size=1, max_size=3),
                               DANGEROUS, st.text(max_size=5)).map("".join)))
    def prop(line: str) -> None:
        nonlocal seen_refusals
        reply = world.loop.run_until_complete(world.h.send(line, sender=OFFICER))
        assert raw_in(reply) == [], (line, reply.text)
        seen_refusals += "nothing was recorded" in reply.text.lower()

    try:
        prop()
        assert seen_refusals > 100
    finally:
        world.close()


async def test_an_unknown_command_with_an_override_is_refused_and_named(h: Harness) -> None:
    reply = await h.fails("!x\u202ey", sender=OFFICER)
    assert "(U+202E) after 'x': RIGHT-TO-LEFT OVERRIDE, a text-direction control" in reply.text
    assert raw_in(reply) == []


async def test_a_value_with_a_zero_width_space_is_not_stored(h: Harness) -> None:
    reply = await h.fails("!seize domain evil\u200b.example", sender=OFFICER)
    assert "(U+200B) after 'seize domain evil': ZERO WIDTH SPACE" in reply.text
    assert raw_in(reply) == []
    assert await h.rows("SELECT * FROM seizures") == []


async def test_emoji_in_a_task_are_kept(h: Harness) -> None:
    reply = await h.ok('!task add "👩‍💻 image the server ⚠️"', sender=OFFICER)
    assert "👩‍💻 image the server ⚠️" in reply.text
    [row] = await h.rows("SELECT text FROM tasks")
    assert row["text"] == "👩‍💻 image the server ⚠️"


async def test_text_stored_before_the_check_is_shown_escaped(h: Harness) -> None:
    """Records written before commands were checked (or by any other path) still cannot
    put a raw override in a list: the reply escapes it, whichever handler built it."""
    await h.ok("!seize other placeholder", sender=OFFICER)
    await h.ok('!task add "placeholder"', sender=OFFICER)

    async def tamper(tx):  # type: ignore[no-untyped-def]
        await tx.execute("UPDATE seizures SET value='gpj\u202eexe.example'")
        await tx.execute("UPDATE tasks SET text='pay \u2066invoice\u2069\u200b now'")

    await h.db.write(tamper)
    listing = await h.ok("!seize list")
    assert "gpj<U+202E>exe.example" in listing.text and raw_in(listing) == []
    tasks = await h.ok("!task list all")
    assert "pay <U+2066>invoice<U+2069><U+200B> now" in tasks.text
    assert "&lt;U+2066&gt;" in tasks.html and raw_in(tasks) == []


# The bot's own direction marks in a right-to-left post, and nothing else (commands.core.
# direction): a RIGHT-TO-LEFT MARK opening each plain line and the HTML block, and a
# LEFT-TO-RIGHT ISOLATE closed by a POP DIRECTIONAL ISOLATE around a run holding no other
# control. Any other bidi control, or one of these anywhere else, came from input.
_OWN_MARKS = re.compile(r"(?m)^\u200f|(?<=<div dir=\"rtl\">)\u200f"
                        r"|\u2066[^\u2066-\u2069\u200e\u200f\u202a-\u202e\n]*\u2069")


def without_own_marks(text: str) -> str:
    return _OWN_MARKS.sub(lambda m: m.group(0)[1:-1] if m.group(0).startswith("\u2066")
                          else "", text)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.text(max_size=8), DANGEROUS, st.sampled_from(
    ["T-12", "@anna:police.example", "مهمة", " ", "\n"])), max_size=12).map("".join))
def test_a_right_to_left_post_carries_only_the_bots_own_marks(text: str) -> None:
    sent = notice_content(text, text, None, lang="ar")
    for shown in (sent["body"], sent["formatted_body"]):
        assert raw_in(Reply(ok=True, text=without_own_marks(shown), html="")) == [], shown
    assert sent["body"].startswith("\u200f")
    english = notice_content(text, text, None, lang="en")
    assert raw_in(Reply(ok=True, text=english["body"], html=english["formatted_body"])) == []
