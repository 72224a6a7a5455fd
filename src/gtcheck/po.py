"""Gettext catalogues as text: read and write .po/.pot files, and build .mo bytes in memory.

Python's gettext reads only compiled .mo files; compiling the .po at load time keeps the
repository free of binaries and the install free of a build step.
"""

from __future__ import annotations

import re
import string
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

MO_MAGIC = 0x950412DE
CONTEXT_SEPARATOR = "\x04"
ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}
_UNESCAPES = {escaped[1]: plain for plain, escaped in ESCAPES.items()}
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")
_QUOTED = re.compile(r'^"(?:[^"\\]|\\.)*"$')


@dataclass
class Message:
    """One catalogue entry; `translations` has one string, or one per plural form."""

    msgid: str
    translations: list[str] = field(default_factory=lambda: [""])
    context: str | None = None
    plural: str | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def fuzzy(self) -> bool:
        """Marked for review: gettext's tools leave such a translation out, and so do we."""
        return any(
            line.startswith("#,") and "fuzzy" in line[2:].replace(",", " ").split()
            for line in self.comments
        )

    @property
    def translated(self) -> bool:
        return all(self.translations) and (not self.fuzzy or self.msgid == "")


class PoError(ValueError):
    """A catalogue that cannot be read: says which line and why."""


def unquote(token: str, line_number: int) -> str:
    """The value of one C-style quoted .po string (octal and hex escapes are bytes)."""
    if not _QUOTED.match(token):
        raise PoError(f"line {line_number}: not a quoted string: {token}")
    out = bytearray()
    body, position = token[1:-1], 0
    while position < len(body):
        ch = body[position]
        if ch != "\\":
            out += ch.encode("utf-8")
            position += 1
            continue
        position = _escape(body, position + 1, out, line_number)
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise PoError(f"line {line_number}: not UTF-8: {token}") from None


def _escape(body: str, position: int, out: bytearray, line_number: int) -> int:
    """Append the escape starting at `body[position]` (after the backslash); returns the
    position after it."""
    ch = body[position]
    if ch in _UNESCAPES:
        out += _UNESCAPES[ch].encode("utf-8")
        return position + 1
    octal = re.match(r"[0-7]{1,3}", body[position:])
    if octal:
        out.append(int(octal.group(), 8) & 0xFF)
        return position + len(octal.group())
    hexadecimal = re.match(r"x([0-9a-fA-F]{1,2})", body[position:])
    if hexadecimal:
        out.append(int(hexadecimal.group(1), 16))
        return position + len(hexadecimal.group())
    raise PoError(f"line {line_number}: unknown escape \\{ch}")


def brace_fields(text: str) -> set[str]:
    """The `{name:spec}` replacement fields of a str.format message, as written."""
    fields = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            fields.add("{" + shown + "}")
    return fields


def quote(text: str) -> str:
    """A .po quoted string for `text`."""
    return '"' + "".join(ESCAPES.get(ch, ch) for ch in text) + '"'


def parse(text: str) -> list[Message]:
    """Every entry of a .po or .pot file, the header (msgid "") included."""
    messages: list[Message] = []
    fields: dict[str, list[str]] = {}
    comments: list[str] = []
    current: str | None = None

    def finish() -> None:
        nonlocal fields, comments, current
        if fields:
            messages.append(_message(fields, comments, len(messages)))
        fields, comments, current = {}, [], None

    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue  # an obsolete entry
        elif line.startswith("#"):
            if "msgid" in fields:
                finish()
            comments.append(line)
        elif line.startswith('"'):
            if current is None:
                raise PoError(f"line {number}: a string continues no keyword")
            fields[current].append(unquote(line, number))
        else:
            match = _KEYWORD.match(line)
            if match is None:
                raise PoError(f"line {number}: cannot read {line!r}")
            keyword = match.group(1)
            if keyword in ("msgctxt", "msgid") and _has_msgstr(fields):
                finish()
            if keyword in fields:
                raise PoError(f"line {number}: {keyword} given twice in one entry")
            fields[keyword] = [unquote(match.group(3), number)]
            current = keyword
    finish()
    return messages


def _has_msgstr(fields: dict[str, list[str]]) -> bool:
    return any(name.startswith("msgstr") for name in fields)


def _message(fields: dict[str, list[str]], comments: list[str], index: int) -> Message:
    joined = {name: "".join(parts) for name, parts in fields.items()}
    if "msgid" not in joined:
        raise PoError(f"entry {index + 1}: no msgid")
    if "msgid_plural" in joined:
        forms = sorted(
            (int(name[7:-1]), value) for name, value in joined.items() if name.startswith("msgstr[")
        )
        if [n for n, _value in forms] != list(range(len(forms))) or not forms:
            raise PoError(f"entry {index + 1} ({joined['msgid']!r}): plural forms out of order")
        translations = [value for _n, value in forms]
    elif "msgstr" in joined:
        translations = [joined["msgstr"]]
    else:
        raise PoError(f"entry {index + 1} ({joined['msgid']!r}): no msgstr")
    return Message(
        msgid=joined["msgid"],
        translations=translations,
        context=joined.get("msgctxt"),
        plural=joined.get("msgid_plural"),
        comments=list(comments),
    )


def render(messages: Iterable[Message]) -> str:
    """A .po file for `messages`, in their order; `parse` reads it back unchanged."""
    return "\n".join(_render_one(message) for message in messages)


def _render_one(message: Message) -> str:
    lines = list(message.comments)
    if message.context is not None:
        lines += _field("msgctxt", message.context)
    lines += _field("msgid", message.msgid)
    if message.plural is None:
        lines += _field("msgstr", message.translations[0])
    else:
        lines += _field("msgid_plural", message.plural)
        for number, translation in enumerate(message.translations):
            lines += _field(f"msgstr[{number}]", translation)
    return "\n".join(lines) + "\n"


def _field(keyword: str, text: str) -> list[str]:
    """`keyword "text"`, split after each newline as gettext's tools do."""
    if "\n" not in text[:-1]:
        return [f"{keyword} {quote(text)}"]
    pieces = re.findall(r"[^\n]*\n|[^\n]+", text)
    return [f'{keyword} ""'] + [quote(piece) for piece in pieces]


def mo_bytes(messages: Iterable[Message]) -> bytes:
    """A GNU .mo file holding every translated entry (untranslated ones fall back)."""
    table: dict[bytes, bytes] = {}
    for message in messages:
        if not message.translated:
            continue
        source = message.msgid if message.plural is None else message.msgid + "\0" + message.plural
        if message.context is not None:
            source = message.context + CONTEXT_SEPARATOR + source
        table[source.encode("utf-8")] = "\0".join(message.translations).encode("utf-8")
    keys = sorted(table)
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    index: list[int] = []
    blob = bytearray()
    for strings in (keys, [table[key] for key in keys]):
        for text in strings:
            index += [len(text), data_at + len(blob)]
            blob += text + b"\0"
    header = struct.pack("<7I", MO_MAGIC, 0, count, originals_at, translations_at, 0, data_at)
    return header + struct.pack(f"<{len(index)}I", *index) + bytes(blob)
