"""Build replies as plain text and HTML at once, escaping everything users typed.

Handlers compose lines from parts: a plain `str` is text (escaped in HTML), `Bold()` is bold,
`Code()` is code, `Ping()` mentions a user (a link, so their client notifies them). Keeping
both renderings in one builder means the plain body and the HTML never drift apart.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commands.core import direction
from commands.core.i18n import current, right_to_left, tr, trn
from commands.core.types import Attachment, Reply
from commands.core.visible import visible, visible_html

PAGE_SIZE = 20


@dataclass(frozen=True)
class Bold:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Ping:
    user_id: str


Part = str | Bold | Code | Ping

_FIELD = re.compile(r"\{(\w+)\}")


def fill(template: str, **values: Part) -> tuple[Part, ...]:
    """A translated line with parts in it: `fill(tr("{ref} created: {text}"), ref=Bold(…),
    text=row["text"])`. Each `{name}` is replaced by its part (bold, a mention...), so the
    translation decides where each goes; what a value holds is never read as a template.
    A `{name}` with no value stays as typed (the catalogue test keeps them equal)."""
    out: list[Part] = []
    last = 0
    for match in _FIELD.finditer(template):
        if match.group(1) not in values:
            continue
        if match.start() > last:
            out.append(template[last:match.start()])
        out.append(values[match.group(1)])
        last = match.end()
    if last < len(template):
        out.append(template[last:])
    return tuple(out)


def _plain(part: Part) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Ping):
        return part.user_id
    return part.text


def _escape(text: str) -> str:
    """Escaped, with line breaks kept: HTML collapses a bare newline into a space."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def _html(part: Part) -> str:
    if isinstance(part, str):
        return _escape(part)
    if isinstance(part, Bold):
        return f"<b>{_escape(part.text)}</b>"
    if isinstance(part, Code):
        return f"<code>{_escape(part.text)}</code>"
    uid = html.escape(part.user_id)
    return f'<a href="https://matrix.to/#/{uid}">{uid}</a>'


class ReplyBuilder:
    def __init__(self) -> None:
        self._plain: list[str] = []
        self._html: list[str] = []

    def line(self, *parts: Part) -> ReplyBuilder:
        self._plain.append("".join(_plain(p) for p in parts))
        self._html.append("".join(_html(p) for p in parts))
        return self

    def heading(self, text: str) -> ReplyBuilder:
        self._plain.append(text)
        self._html.append(f"<b>{_escape(text)}</b>")
        return self

    def bullets(self, rows: Sequence[Sequence[Part]], *, page: int = 1, more_hint: str = ""
                ) -> ReplyBuilder:
        """A list shown one page at a time, so long lists stay readable on a phone."""
        start = (page - 1) * PAGE_SIZE
        shown = rows[start : start + PAGE_SIZE]
        if not shown:
            self.line(tr("(none)") if page == 1 else tr("(no page {page})").format(page=page))
            return self
        self._plain.extend("• " + "".join(_plain(p) for p in row) for row in shown)
        self._html.append(
            "<ul>" + "".join("<li>" + "".join(_html(p) for p in row) + "</li>" for row in shown)
            + "</ul>"
        )
        remaining = len(rows) - start - len(shown)
        if remaining > 0:
            hint = f"{more_hint} page={page + 1}" if more_hint else f"page={page + 1}"
            self.line(trn("… {n} more ({hint})", "… {n} more ({hint})", remaining).format(
                n=remaining, hint=hint))
        return self

    def build(self, ok: bool = True, attachment: Attachment | None = None) -> Reply:
        # Whatever a handler echoes, the reply never shows a bidi control or an invisible
        # character (the runtime checks again where it sends, for replies built elsewhere).
        text = visible("\n".join(self._plain))
        body_html = visible_html("<br>".join(self._html))
        return Reply(ok=ok, text=text, html=body_html, attachment=attachment, lang=current())


def ok(*parts: Part) -> Reply:
    """A one-line success reply."""
    return ReplyBuilder().line(*parts).build(ok=True)


def appended(reply: Reply, extra: Reply) -> Reply:
    """`reply` with `extra`'s lines after its own; everything else is `reply`'s."""
    return dataclasses.replace(reply, text=f"{reply.text}\n{extra.text}",
                               html=f"{reply.html}<br>{extra.html}")


def queued(request: Reply, ahead: int) -> Reply:
    """The answer at once when a command's slow part (an export's file) has to wait for
    others; the full reply follows when it is done."""
    said = trn("⏳ queued, {n} ahead: {request}", "⏳ queued, {n} ahead: {request}", ahead)
    return Reply(ok=True, text=said.format(n=ahead, request=request.text),
                 html=said.format(n=ahead, request=request.html), lang=request.lang)


def error(message: str, usage: str | None = None) -> Reply:
    r = ReplyBuilder().line("⚠️ ", message)
    if usage:
        r.line(*fill(tr("Usage: {usage}"), usage=Code(usage)))
    return r.build(ok=False)


def notice_content(text: str, html: str | None, reply_to: str | None = None,
                   extra: dict[str, Any] | None = None, *, lang: str | None = None
                   ) -> dict[str, Any]:
    """The event content of everything the bot posts (an m.notice: clients do not answer
    it, bots do not obey it), a reply when `reply_to` is given. `lang` is the language it
    was written in (the one in force when None): a right-to-left one is marked so here,
    last, after every character from input has been made visible."""
    rtl = right_to_left(lang)
    body = visible(text)
    content: dict[str, Any] = {**(extra or {}), "msgtype": "m.notice",
                               "body": direction.plain(body) if rtl else body}
    if html is not None:
        shown = visible_html(html)
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = direction.html(shown) if rtl else shown
    if reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content
