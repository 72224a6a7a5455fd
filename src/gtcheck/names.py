"""How a typed name compares with a stored one: Unicode normal forms, diacritics, word order.

A Vietnamese name looks the same in NFC (`ễ` one code point) and NFD (`e` and two combining
marks), but DynamoDB compares key bytes. So names are compared after NFC; the stored form
is kept as it is, and the difference is only reported. Folding further (no marks, no case,
words in any order) finds near misses, never matches.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that carry their mark in their own shape, so NFD cannot take it off.
_UNMARKED = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})
_WORD_SEPARATORS = re.compile(r"[\s\-_.#@/]+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def same_name(left: str, right: str) -> bool:
    """Equal once both are in NFC: how keys and --participant are compared."""
    return nfc(left) == nfc(right)


def normal_form(text: str) -> str | None:
    """`NFC` or `NFD` when `text` is in exactly that form (ASCII is both: None), else `mixed`."""
    composed = unicodedata.is_normalized("NFC", text)
    decomposed = unicodedata.is_normalized("NFD", text)
    if composed and decomposed:
        return None
    if composed:
        return "NFC"
    if decomposed:
        return "NFD"
    return "mixed"


def forms(text: str) -> list[str]:
    """`text` as typed, then in NFC and NFD: the keys a console may have stored for it."""
    found = [text]
    for form in ("NFC", "NFD"):
        other = unicodedata.normalize(form, text)
        if other not in found:
            found.append(other)
    return found


def fold(text: str) -> str:
    """Case and normal form set aside: `Nguyễn` and `NGUYỄN` fold alike."""
    return nfc(text).casefold()


def bare(text: str) -> str:
    """No marks, no case: `Nguyễn-Văn-An` and `nguyen-van-an` are bare alike."""
    decomposed = unicodedata.normalize("NFD", text.translate(_UNMARKED))
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return nfc(kept).casefold()


def words(text: str) -> list[str]:
    """The bare words of `text`, sorted: a name written in another order has the same."""
    return sorted(word for word in _WORD_SEPARATORS.split(bare(text)) if word)


def contains(text: str, name: str) -> bool:
    """Does `text` carry `name`, whatever the case and normal form?"""
    return fold(name) in fold(text)
