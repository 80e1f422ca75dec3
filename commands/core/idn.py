"""Internationalised domain names: one spelling to store and compare, a warning to show.

`аррӏе.com` (Cyrillic) and `apple.com` look the same in chat and are different domains.
A name is stored and compared as its IDNA A-label (`xn--80ak6aa92e.com`): ASCII, one
spelling per domain whatever was typed (case, full-width dots and letters, the Unicode or
the punycode form), and what registries, DNS and STIX use. Officers are shown the
A-label and, when it differs, the Unicode form with what makes it deceptive:

- **mixed scripts**: a label whose letters come from more than one script (`pаypal`,
  Latin with a Cyrillic `а`), except the combinations a language writes with (UTS #39
  "highly restrictive": Latin with Han and Hiragana/Katakana, Bopomofo or Hangul);
- **look-alikes**: any letter or digit outside ASCII drawn like an ASCII one (`lookalikes`:
  Cyrillic `а р ӏ е` in `аррӏе`), whatever the script of the rest of the name.

Conversion is UTS #46 (non-transitional: `ß` stays `ß`, as browsers do) then IDNA 2008.
A label IDNA 2008 refuses only for a code point it disallows (emoji: `i❤.ws`) is encoded
by IDNA 2003, which browsers still resolve, so a real criminal domain is not refused.
Plain ASCII labels are left to the caller's letter-digit-hyphen check: IDNA 2008's
"no `--` at positions 3-4" would refuse real host names like `r3---sn-x.example`.
"""

from __future__ import annotations

import encodings.idna as idna2003
import unicodedata

import idna

from commands.core.i18n import N_, tr, trn
from commands.core.lookalikes import LOOKALIKE

# Scripts a single language mixes in one word (UTS #39 highly restrictive).
_WRITTEN_TOGETHER = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
_TWO_WORD_SCRIPTS = {"OLD", "NEW", "TAI", "CANADIAN", "LINEAR", "INSCRIPTIONAL", "CAUCASIAN",
                     "KAYAH", "WARANG", "MEETEI", "SYLOTI", "MASARAM", "GUNJALA", "HANIFI"}
_NO_SCRIPT = {"COMBINING", "MODIFIER", "KATAKANA-HIRAGANA"}
_MAX_SHOWN = 8
# Script names shown in a warning, as feminine adjectives in the translations ("écriture
# cyrillique"); a script not listed is shown by its English Unicode name.
_SCRIPT_NAMES = {
    "Latin": N_("Latin"), "Cyrillic": N_("Cyrillic"), "Greek": N_("Greek"),
    "Armenian": N_("Armenian"), "Georgian": N_("Georgian"), "Cherokee": N_("Cherokee"),
    "Arabic": N_("Arabic"), "Hebrew": N_("Hebrew"), "Han": N_("Han"),
    "Hiragana": N_("Hiragana"), "Katakana": N_("Katakana"), "Hangul": N_("Hangul"),
    "Devanagari": N_("Devanagari"), "Bengali": N_("Bengali"), "Thai": N_("Thai"),
    "Lisu": N_("Lisu"), "Canadian Syllabics": N_("Canadian Syllabics"),
    "Coptic": N_("Coptic"), "Ethiopic": N_("Ethiopic"),
}


class IDNError(ValueError):
    pass


def _alabel(label: str) -> str:
    try:
        return idna.alabel(label).decode("ascii")
    except idna.InvalidCodepoint:
        try:
            return idna2003.ToASCII(label).decode("ascii")
        except UnicodeError as exc:
            raise IDNError(str(exc)) from None
    except idna.IDNAError as exc:
        raise IDNError(str(exc)) from None


def _ulabel(label: str) -> str:
    try:
        return idna.ulabel(label)
    except idna.InvalidCodepoint:
        pass
    except idna.IDNAError as exc:
        raise IDNError(str(exc)) from None
    try:
        decoded = idna2003.ToUnicode(label)
        if idna2003.ToASCII(decoded).decode("ascii") == label:
            return decoded
    except UnicodeError as exc:
        raise IDNError(str(exc)) from None
    raise IDNError(tr("{label} is not a valid A-label").format(label=label))


def to_ascii(name: str) -> str:
    """The A-label form of a host name, lower case. Raises IDNError with the reason."""
    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
    except idna.IDNAError as exc:
        raise IDNError(str(exc)) from None
    labels = []
    for label in mapped.split("."):
        if not label.isascii():
            labels.append(_alabel(label))
        elif label.startswith("xn--"):
            _ulabel(label)
            labels.append(label)
        else:
            labels.append(label)
    return ".".join(labels)


def to_unicode(ascii_name: str) -> str:
    """The Unicode form of an A-label host name; labels that do not decode stay as they are."""
    labels = []
    for label in ascii_name.split("."):
        try:
            labels.append(_ulabel(label) if label.startswith("xn--") else label)
        except IDNError:
            labels.append(label)
    return ".".join(labels)


def script(ch: str) -> str | None:
    """The script of a letter, read from its Unicode name (`CYRILLIC SMALL LETTER A`):
    the standard library has no Script property, and for letters the name starts with it."""
    if unicodedata.category(ch)[0] not in "LM":
        return None
    words = unicodedata.name(ch, "").split(" ")
    if words[0] in _NO_SCRIPT or not words[0]:
        return None
    if words[0] in ("CJK", "IDEOGRAPHIC"):
        return "Han"
    if words[0] in _TWO_WORD_SCRIPTS and len(words) > 1:
        return f"{words[0]} {words[1]}".title()
    return words[0].title()


def _mixed(label: str) -> list[str]:
    scripts: list[str] = []
    for ch in label:
        name = script(ch)
        if name and name not in scripts:
            scripts.append(name)
    if len(scripts) < 2 or any(set(scripts) <= allowed for allowed in _WRITTEN_TOGETHER):
        return []
    return scripts


def script_name(name: str) -> str:
    """A script's name in the language in force."""
    return tr(_SCRIPT_NAMES[name]) if name in _SCRIPT_NAMES else name


def warnings(unicode_name: str) -> list[str]:
    """What makes a Unicode host name deceptive, in words an officer reads on a phone."""
    found: list[str] = []
    for label in unicode_name.split("."):
        scripts = _mixed(label)
        if scripts:
            mixed = tr("mixed scripts: {scripts}").format(
                scripts=" + ".join(script_name(x) for x in scripts))
            if mixed not in found:
                found.append(mixed)
    by_script: dict[str | None, list[str]] = {}
    for ch in dict.fromkeys(unicode_name):
        if ch in LOOKALIKE:
            by_script.setdefault(script(ch), []).append(ch)
    for name, chars in by_script.items():
        chars = chars[:_MAX_SHOWN]
        targets = [LOOKALIKE[ch] for ch in chars]
        shown, like = " ".join(chars), " ".join(targets)
        if name and name != "Latin":
            found.append(trn("{script} {chars} looks like Latin {targets}",
                             "{script} {chars} look like Latin {targets}", len(chars)).format(
                script=script_name(name), chars=shown, targets=like))
        else:
            found.append(trn("{chars} looks like {targets}", "{chars} look like {targets}",
                             len(chars)).format(chars=shown, targets=like))
    return found
