"""The command line an officer meant, from a Matrix message's content.

When an officer picks a person from Element's mention autocomplete, the plain `body`
carries only the display name ("Anna Schmidt") and the user id is only in the HTML
`formatted_body` as a link (a "pill"). Read from `body`, `!task assign T-1 @Anna` would
name nobody, so when the HTML holds user pills the line is rebuilt from the HTML with
each pill replaced by its user id. Reply fallbacks (`> <@x> quoted` lines in the body,
`<mx-reply>` in the HTML, still sent by older clients) are not part of the command.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

_USER_LINK = re.compile(r"^(?:https://matrix\.to/#/|matrix:u/)(@?[^/?#]+)")
_BLOCK_TAGS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}


def user_of_link(href: str) -> str | None:
    match = _USER_LINK.match(href)
    if not match:
        return None
    target = unquote(match.group(1))
    if href.startswith("matrix:u/"):
        target = "@" + target
    return target if target.startswith("@") and ":" in target else None


class _PillText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pills = 0
        self._in_reply = 0
        self._in_pill = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._in_reply += 1
        elif self._in_reply:
            return
        elif tag == "a" and (user := user_of_link(dict(attrs).get("href") or "")):
            self.parts.append(user)
            self.pills += 1
            self._in_pill += 1
        elif tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply":
            self._in_reply = max(0, self._in_reply - 1)
        elif tag == "a" and self._in_pill and not self._in_reply:
            self._in_pill -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_reply and not self._in_pill:
            self.parts.append(data)


def strip_reply_fallback(body: str) -> str:
    lines = body.split("\n")
    if not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def command_text(content: dict[str, Any]) -> str:
    body = content.get("body")
    body = body if isinstance(body, str) else ""
    html = content.get("formatted_body")
    if content.get("format") == "org.matrix.custom.html" and isinstance(html, str):
        parser = _PillText()
        parser.feed(html)
        parser.close()
        if parser.pills:
            return "".join(parser.parts).strip()
    is_reply = "m.in_reply_to" in (content.get("m.relates_to") or {})
    return strip_reply_fallback(body) if is_reply else body
