"""Latin spellings of Russian and Ukrainian names, for `name_en` when no table knows one.

Russian follows the simplified BGN/PCGN romanisation news agencies use («Алексей Ерхов»
-> «Aleksey Erkhov»); Ukrainian the official 2010 national system (КМУ № 55: «Павло
Паліса» -> «Pavlo Palisa», є/ї/й/ю/я spelt ye/yi/y/yu/ya at the start of a word, ie/i/i/iu/ia
elsewhere, «зг» -> «zgh»). Which one is told by `normalise.name_language`.
"""

from __future__ import annotations

import re

__all__ = ["transliterate"]

_COMMON = {
    "а": "a", "б": "b", "в": "v", "д": "d", "е": "e", "ж": "zh", "з": "z", "к": "k",
    "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "",
}  # fmt: skip
_RUSSIAN = {
    **_COMMON, "г": "g", "ё": "yo", "и": "i", "й": "y", "ъ": "", "ы": "y", "э": "e",
    "ю": "yu", "я": "ya",
}  # fmt: skip
_UKRAINIAN = {
    **_COMMON, "г": "h", "ґ": "g", "и": "y", "і": "i", "є": "ie", "ї": "i", "й": "i",
    "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_WORD_START = re.compile(r"(?<![\w'’ʼ])\w")


def transliterate(text: str, lang: str = "ru") -> str:
    """`text` in Latin letters, capitals kept; characters outside the alphabet stay."""
    table = _UKRAINIAN if lang == "uk" else _RUSSIAN
    if lang == "uk":
        text = re.sub("зг", "zgh", text)
        text = re.sub("Зг", "Zgh", text)
    starts = {m.start() for m in _WORD_START.finditer(text)}
    out = []
    for at, char in enumerate(text):
        low = char.lower()
        latin = _UKRAINIAN_INITIAL.get(low) if lang == "uk" and at in starts else None
        if latin is None:
            latin = table.get(low, char if low == char else low)
        if char != low and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
    return "".join(out)
