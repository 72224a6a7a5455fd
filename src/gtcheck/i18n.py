"""The language participants read: English (the msgids themselves) or Vietnamese.

The workshop is published in both. Every participant-facing message goes through `_` (or
`ngettext`); `N_` marks a message to be translated later, where it is shown. The catalogue
is the .po file itself, compiled in memory on first use.
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from gtcheck import po

DOMAIN = "gtcheck"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "vi")
DEFAULT = "en"
ENVIRONMENT_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_chosen: str | None = None


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """Vietnamese when the first set locale variable starts with `vi`, else English."""
    environ = os.environ if environ is None else environ
    for name in ENVIRONMENT_VARIABLES:
        value = environ.get(name)
        if value:
            return "vi" if value.strip().lower().startswith("vi") else DEFAULT
    return DEFAULT


def set_language(lang: str | None) -> None:
    """Choose the language for this process; None follows the environment again."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    global _chosen
    _chosen = lang


def chosen_language() -> str | None:
    """The language set explicitly, if any (to restore it after a run)."""
    return _chosen


def language() -> str:
    """The language messages are shown in now."""
    return _chosen or default_language()


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of `lang`; English needs none, its msgids are the text."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    messages = po.parse(catalogue_path(lang).read_text(encoding="utf-8"))
    return gettext.GNUTranslations(io.BytesIO(po.mo_bytes(messages)))


def _(message: str) -> str:
    """`message` in the current language (itself when untranslated)."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message that fits `count`, in the current language."""
    return translations(language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it yet (module constants)."""
    return message
