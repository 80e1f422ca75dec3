"""Letters and digits outside ASCII that are drawn like an ASCII one: Cyrillic `а` like `a`,
Greek `ο` like `o`, Cherokee `Ꭺ` like `A`, Latin `ɑ` like `a`.

Derived from Unicode's confusables.txt (UTS #39, version 14.0, the Unicode version of
Python 3.11's unicodedata): every single code point whose confusable prototype is one
ASCII letter or digit, kept if it can stand in a domain name (UTS #46 maps it to itself
and IDNA 2008 allows it). Regenerate with `python -m commands.core.lookalikes confusables.txt`.
"""

from __future__ import annotations

import sys

_LOOKALIKES = (
    "ᒿ𖼻𑣊ᏎбᏮ𑣕𑣆ଃ৪੪ȣ𐌚੧୨৭൭𑣌𑣖ɑαаᎪᗅꓮ𖽀𐊠ᏏᑲᖯᏴᗷꓐ𐊂𐊡𐌁ᴄⲥс𐐽"
    "𑣩Ꮯꓚ𐊢𐌂𐔜ԁᏧᑯꓒᎠᗞᗪꓓꬲеҽⴹᎬꓰ𐊆ꬵꞙẝքᖴꓝ𑣂𐊇𐊥𐔥ɡᶃƍցᏀᏳꓖһհ"
    "ᏂᎻᕼꓧ𐋏ıɪɩιіꙇӏᎥ𑣃ϳјᎫᒍꓙᏦᛕꓗ𐔘۱ǀⵏᛁꓲ𖼨𐊊𐌉Ꮮᒪꓡ𖼖𐔦Ꮇᗰᛖꓟ"
    "𐊰𐌑ոռꓠ𐔓ంಂംං०੦૦௦౦೦൦๐໐၀۵ᴏᴑꬽοσⲟоჿօഠဝ𐓪𑣈𑣗𐐬০୦〇𑓐"
    "𑣠ⵔዐଠꓳ𐊒𐊫𐔖ρⲣрᏢᑭꓑ𐊕ԛգզⵕꭇꭈᴦⲅгᎡᏒᖇꓣ𖼵ꜱƽѕ𑣁𐑈ᏕᏚꓢ𖼺𐊖Ꭲ"
    "ꓔ𖼊𐊗𐊱𐌕ꞟᴜꭎꭒʋυս𐓶𑣘ሀᑌꓴ𖽂ᴠνѵ𑜆𑣀۷ⴸᏙᐯꛟꓦ𖼈𐔝ɯᴡѡԝա𑜊𑜎𑜏𑣦"
    "ᎳᏔꓪхᕁᕽⵝᚷꓫ𐊐𐊴𐌗𐔧ɣᶌʏỿꭚγуүყ𑣜ᎩᎽꓬ𖽃𐊲ᴢ𑣄𑣥Ꮓꓜ"
)
_LATIN = (
    "2334666788888999999aaaaaaaabbbbbbbbbcccc"
    "ccccccddddddddeeeeeeeffffffffffggggggghh"
    "hhhhhiiiiiiiiijjjjjkkkklllllllllllllmmmm"
    "mmnnnnoooooooooooooooooooooooooooooooooo"
    "oooooooopppppppqqqqrrrrrrrrrrsssssssssst"
    "tttttuuuuuuuuuuuuuvvvvvvvvvvvvvwwwwwwwww"
    "wwwxxxxxxxxxxyyyyyyyyyyyyyyyzzzzz"
)
LOOKALIKE = dict(zip(_LOOKALIKES, _LATIN, strict=True))


def _generate(path: str) -> None:
    import idna

    found: dict[str, str] = {}
    with open(path, encoding="utf-8-sig") as lines:
        for line in lines:
            fields = [f.strip() for f in line.split("#")[0].split(";")]
            if len(fields) < 2 or " " in fields[0]:
                continue
            source = chr(int(fields[0], 16))
            target = "".join(chr(int(x, 16)) for x in fields[1].split())
            if len(target) != 1 or not (target.isascii() and target.isalnum()):
                continue
            if source.isascii():
                continue
            try:
                if idna.uts46_remap(source, std3_rules=False, transitional=False) != source:
                    continue
                idna.alabel("x" + source)
            except idna.IDNAError:
                continue
            found[source] = target.lower()
    for name, text in (("_LOOKALIKES", "".join(found)), ("_LATIN", "".join(found.values()))):
        print(f"{name} = (")
        for i in range(0, len(text), 40):
            print(f'    "{text[i:i + 40]}"')
        print(")")


if __name__ == "__main__":
    _generate(sys.argv[1])
