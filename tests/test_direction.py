"""Right-to-left posts: Element shows them right to left and identifiers left to right."""

from __future__ import annotations

from commands.core.direction import LRI, PDI, RLM, html, isolate_runs, plain
from commands.core.reply import notice_content


def test_identifiers_in_arabic_text_are_isolated_left_to_right() -> None:
    text = "أُنشئت المهمة T-12: Image server fra-2 → @anna:police.example · 071200ZDEC26."
    marked = isolate_runs(text)
    for identifier in ("T-12", "Image server fra-2", "@anna:police.example", "071200ZDEC26"):
        assert f"{LRI}{identifier}{PDI}" in marked, marked
    assert marked.count(LRI) == marked.count(PDI) == 4
    assert f"{PDI}." in marked and f"{PDI}:" in marked  # punctuation stays in the sentence


def test_a_number_alone_is_left_as_it_is() -> None:
    assert isolate_runs("3 مهام") == "3 مهام"


def test_every_plain_line_opens_right_to_left() -> None:
    assert plain("سطر\nT-1 سطر") == f"{RLM}سطر\n{RLM}{LRI}T-1{PDI} سطر"


def test_html_keeps_its_tags_and_entities_whole() -> None:
    marked = html('<b>T-1</b> · <a href="https://matrix.to/#/@a:b.example">@a:b.example</a>'
                  " a &amp; b")
    assert marked.startswith(f'<div dir="rtl">{RLM}<b>{LRI}T-1{PDI}</b>')
    assert 'href="https://matrix.to/#/@a:b.example"' in marked
    assert "&amp;" in marked


def test_only_right_to_left_posts_are_marked() -> None:
    arabic = notice_content("مهمة T-1", "مهمة <b>T-1</b>", lang="ar")
    assert arabic["body"] == f"{RLM}مهمة {LRI}T-1{PDI}"
    assert arabic["formatted_body"].startswith(f'<div dir="rtl">{RLM}')
    for lang in ("en", "fr", "es"):
        content = notice_content("task T-1", "task <b>T-1</b>", lang=lang)
        assert content["body"] == "task T-1" and content["formatted_body"] == "task <b>T-1</b>"
