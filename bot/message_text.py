"""The command line an officer sees in Element, from a Matrix message's content.

A message carries two texts: the plain `body` and, when it has formatting, the HTML
`formatted_body`. Element shows the HTML, so that is what the bot runs: otherwise a
message whose HTML shows `!task list` could carry `!op phase closed` in its body (or in
a `<script>` that Element drops), and the room would never see what was recorded. The
text is read as Element's sanitizer (sanitize-html) and the browser render it: the
contents of `script`, `style`, `textarea`, `option` and `noscript` are dropped, as is the
quoted reply (`<mx-reply>`); block tags and `<br>` are line breaks; runs of whitespace
outside `<pre>` are one space; entities are decoded. Markdown typed in Element arrives
as HTML (`**x**` → `<strong>x</strong>`) and runs as it shows (`x`, in bold).

A mention picked from Element's list (a "pill") shows the display name but is a link to
the user; it is read as the user id, so `!task assign T-1 @Anna` names @anna:server.
Its target is a user id and nothing else: a link's target is percent-decoded, so without a
check `matrix.to/#/@a:b%0A!op%20phase%20closed` would put a second command line (or a
quote, or a key=value) into the command. A pill whose target is not a user id is kept
out of the text and named (`Shown.bad_mentions`), and the runtime refuses the message.
Without HTML, the body is the command, less a reply's quoted fallback (`> <@x> ...`).

Pure: no nio, so the rules are unit-tested on plain dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

HTML_FORMAT = "org.matrix.custom.html"
_USER_LINK = re.compile(r"^(?:https://matrix\.to/#/|matrix:u/)(@?[^/?#]+)")
_BLOCK_TAGS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
               "ul", "ol", "nl", "table", "thead", "tbody", "caption", "hr", "details",
               "summary"}
# sanitize-html's default `nonTextTags` (Element keeps the default): dropped with their text.
_HIDDEN_TAGS = {"script", "style", "textarea", "option", "noscript"}
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# A Matrix user id (spec, appendix "Identifier Grammar"): the localpart's characters (upper
# case too, which old accounts have), a server name — DNS name, IPv4 or [IPv6] — and an
# optional port; 255 characters at most.
_USER_ID = re.compile(r"@[A-Za-z0-9._=\-/+]+:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)"
                      r"(?::[0-9]{1,5})?", re.ASCII)


@dataclass(frozen=True)
class Shown:
    text: str
    bad_mentions: tuple[str, ...] = ()  # pill targets that are not user ids


def is_user_id(text: str) -> bool:
    return len(text) <= 255 and _USER_ID.fullmatch(text) is not None


def user_of_link(href: str) -> str | None:
    """The target of a link to a user (a pill), decoded; whether it is a valid user id is
    for the caller to check. None for any other link (a room, a web page)."""
    match = _USER_LINK.match(href)
    if not match:
        return None
    target = unquote(match.group(1))
    if href.startswith("matrix:u/"):
        target = "@" + target
    return target if target.startswith("@") else None


class _ShownText(HTMLParser):
    """The text Element displays for a formatted_body, with pills as user ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_reply = 0
        self._hidden: list[str] = []
        self._in_pill = 0
        self._in_pre = 0
        self.bad_mentions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mx-reply":
            self._in_reply += 1
        elif tag in _HIDDEN_TAGS:
            self._hidden.append(tag)
        elif self._in_reply or self._hidden:
            return
        elif tag == "a" and (user := user_of_link(dict(attrs).get("href") or "")):
            if is_user_id(user):
                self.parts.append(user)
            else:
                self.bad_mentions.append(user)
            self._in_pill += 1
        elif tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "pre":
                self._in_pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mx-reply":
            self._in_reply = max(0, self._in_reply - 1)
        elif tag in _HIDDEN_TAGS:
            if tag in self._hidden:  # closes the innermost one of that name, as a parser would
                del self._hidden[len(self._hidden) - 1 - self._hidden[::-1].index(tag):]
        elif self._in_reply or self._hidden:
            return
        elif tag == "a" and self._in_pill:
            self._in_pill -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "pre":
                self._in_pre = max(0, self._in_pre - 1)

    def handle_data(self, data: str) -> None:
        if self._in_reply or self._hidden or self._in_pill:
            return
        self.parts.append(data if self._in_pre else _HTML_SPACE.sub(" ", data))

    def text(self) -> str:
        lines = (line.strip(" ") for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def shown_html(html: str) -> Shown:
    parser = _ShownText()
    parser.feed(html)
    parser.close()
    return Shown(parser.text(), tuple(parser.bad_mentions))


def strip_reply_fallback(body: str) -> str:
    lines = body.split("\n")
    if not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def shown(content: dict[str, Any]) -> Shown:
    """What the officer's client shows as the message: its HTML when it has one (with
    pills as user ids), else its plain body."""
    html = content.get("formatted_body")
    if content.get("format") == HTML_FORMAT and isinstance(html, str):
        return shown_html(html)
    body = content.get("body")
    body = body if isinstance(body, str) else ""
    relation = content.get("m.relates_to")
    is_reply = isinstance(relation, dict) and "m.in_reply_to" in relation
    return Shown(strip_reply_fallback(body) if is_reply else body)


def command_text(content: dict[str, Any]) -> str:
    return shown(content).text
