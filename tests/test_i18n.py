"""Messages in English and Vietnamese: the catalogue covers the source, keeps placeholders,
is read correctly, and a graded run speaks the chosen language."""

from __future__ import annotations

import argparse
import csv
import gettext
import html
import importlib.machinery
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gtcheck import i18n, po
from gtcheck.check import pytest_args
from gtcheck.cli import build_parser
from gtcheck.sim import ManualClock, SimConfig, Simulator
from tests.grading import grade, step, write_workshop

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "src" / "gtcheck" / "locale" / "gtcheck.pot"
VIETNAMESE = i18n.catalogue_path("vi")
VIETNAMESE_FORMS = 1  # Plural-Forms: nplurals=1


def load_extractor() -> ModuleType:
    """scripts/extract-messages as a module: the tests use the script's own extraction."""
    path = ROOT / "scripts" / "extract-messages"
    loader = importlib.machinery.SourceFileLoader("extract_messages", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up while defined
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def extractor() -> ModuleType:
    return load_extractor()


@pytest.fixture(scope="module")
def source_messages(extractor: ModuleType) -> dict[str, str | None]:
    """msgid -> msgid_plural (or None) for every message in the source."""
    return {found.msgid: found.plural for found in extractor.extract()}


@pytest.fixture(scope="module")
def vietnamese() -> dict[str, po.Message]:
    return {m.msgid: m for m in po.parse(VIETNAMESE.read_text(encoding="utf-8")) if m.msgid}


# ----- the catalogue against the source ---------------------------------------------------
def test_source_has_messages(source_messages: dict[str, str | None]) -> None:
    """Extraction finds the step titles, the hints and the report labels."""
    assert "Global user created in the primary region" in source_messages  # a rubric title
    assert "{items} and {last}" in source_messages  # a hint fragment
    assert "Participant: {name}" in source_messages  # an HTML label
    assert source_messages["a typo: {count} character off"] == "a typo: {count} characters off"


def test_template_is_up_to_date(extractor: ModuleType) -> None:
    """gtcheck.pot is what scripts/extract-messages writes for today's source."""
    expected = extractor.template(extractor.extract())
    assert TEMPLATE.read_text(encoding="utf-8") == expected, "run scripts/extract-messages"


def test_vietnamese_covers_every_message(
    source_messages: dict[str, str | None], vietnamese: dict[str, po.Message]
) -> None:
    """Every msgid has a non-empty, reviewed Vietnamese translation (each plural form)."""
    missing = [msgid for msgid in source_messages if msgid not in vietnamese]
    untranslated = [
        msgid
        for msgid, message in vietnamese.items()
        if msgid in source_messages and not message.translated
    ]
    assert not missing, f"not in vi/gtcheck.po: {missing}"
    assert not untranslated, f"empty or fuzzy in vi/gtcheck.po: {untranslated}"
    for msgid, plural in source_messages.items():
        message = vietnamese[msgid]
        assert message.plural == plural, msgid
        if plural is not None:
            assert len(message.translations) == VIETNAMESE_FORMS, msgid


def test_vietnamese_has_no_stale_messages(
    source_messages: dict[str, str | None], vietnamese: dict[str, po.Message]
) -> None:
    """A message removed from the source is removed from the catalogue too."""
    assert not set(vietnamese) - set(source_messages)


def test_translations_keep_the_placeholders(vietnamese: dict[str, po.Message]) -> None:
    """Each translation has exactly the msgid's `{placeholders}` (names, conversions, specs)."""
    for msgid, message in vietnamese.items():
        expected = po.brace_fields(msgid) | po.brace_fields(message.plural or "")
        for translation in message.translations:
            assert po.brace_fields(translation) == expected, (msgid, translation)


def test_the_vietnamese_catalogue_loads(vietnamese: dict[str, po.Message]) -> None:
    """Compiled in memory, gettext answers with the translation, plurals included."""
    catalogue = i18n.translations("vi")
    assert catalogue.gettext("the user") == vietnamese["the user"].translations[0]
    typo = catalogue.ngettext("a typo: {count} character off", "a typo: {count} characters off", 2)
    assert typo == vietnamese["a typo: {count} character off"].translations[0]
    assert catalogue.gettext("not a message of gtcheck") == "not a message of gtcheck"


# ----- the .po reader and writer ------------------------------------------------------------
TRICKY = [
    "",
    'say "hi"',
    "back\\slash and \\n written out",
    "ends with a backslash \\",
    "two\nlines",
    "ends with a newline\n",
    "\n",
    "\n\nleading newlines",
    "tab\there, return\rthere, bell\a, vertical\v, feed\f, backspace\b",
    "Tiếng Việt: vùng, bảng, bản sao — “quotes” 日本語 🚀",
    "a line separator\u2028inside, and \x1c too",
    "{placeholder} and {other!r:>4}",
]


@pytest.mark.parametrize("text", TRICKY)
def test_po_round_trips_tricky_strings(text: str) -> None:
    """Rendered then parsed, every string, context and plural comes back unchanged."""
    messages = [
        po.Message("", ["Content-Type: text/plain; charset=UTF-8\n"]),
        po.Message(text or "x", [text], comments=["#: somewhere.py"]),
        po.Message("id", [text], context=text),
        po.Message("one", [text, text + "s"], plural=text + " plural"),
    ]
    assert po.parse(po.render(messages)) == messages


@given(msgid=st.text(min_size=1), translation=st.text(), context=st.none() | st.text())
def test_po_round_trips_any_text(msgid: str, translation: str, context: str | None) -> None:
    message = po.Message(msgid, [translation], context=context)
    assert po.parse(po.render([message])) == [message]


def test_mo_bytes_serve_gettext_contexts_and_plurals() -> None:
    """The in-memory .mo answers gettext, pgettext and ngettext as msgfmt's would."""
    messages = [
        po.Message(
            "", ["Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n"]
        ),
        po.Message('say "hi"\n', ["nói “chào”\n"]),
        po.Message("Table", ["Bàn"], context="furniture"),
        po.Message("Table", ["Bảng"]),
        po.Message("{n} item", ["{n} mục"], plural="{n} items"),
        po.Message("untranslated", [""]),
        po.Message("needs review", ["cần xem lại"], comments=["#, fuzzy, python-brace-format"]),
    ]
    catalogue = gettext.GNUTranslations(io.BytesIO(po.mo_bytes(messages)))
    assert catalogue.gettext('say "hi"\n') == "nói “chào”\n"
    assert catalogue.gettext("Table") == "Bảng"
    assert catalogue.pgettext("furniture", "Table") == "Bàn"
    assert catalogue.ngettext("{n} item", "{n} items", 5) == "{n} mục"
    assert catalogue.gettext("untranslated") == "untranslated"
    assert catalogue.gettext("needs review") == "needs review"


def test_po_reads_what_gettext_tools_write() -> None:
    """Multi-line strings, comments, obsolete entries, octal and hex escapes."""
    text = (
        "# a translator comment\n"
        'msgid ""\n'
        'msgstr ""\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        "\n"
        "#: checks/test_env.py\n"
        "#, python-brace-format\n"
        'msgid ""\n'
        '"first line\\n"\n'
        '"second {region}"\n'
        'msgstr "d\\303\\262ng \\x41"\n'
        '#~ msgid "obsolete"\n'
        '#~ msgstr "cũ"\n'
        'msgctxt "status"\n'
        'msgid "error"\n'
        'msgstr "lỗi"\n'
    )
    header, multi, contextual = po.parse(text)
    assert header.comments == ["# a translator comment"]
    assert multi.msgid == "first line\nsecond {region}"
    assert multi.translations == ["dòng A"]
    assert multi.comments == ["#: checks/test_env.py", "#, python-brace-format"]
    assert (contextual.context, contextual.msgid, contextual.translations) == (
        "status",
        "error",
        ["lỗi"],
    )


@pytest.mark.parametrize(
    "text",
    [
        'msgid "unterminated\nmsgstr ""\n',
        'msgid "bad \\q escape"\nmsgstr ""\n',
        'msgstr "no msgid"\n',
        'msgid "no msgstr"\n',
        '"a string continuing nothing"\n',
        'msgid "a" b\nmsgstr ""\n',
    ],
)
def test_po_rejects_broken_catalogues(text: str) -> None:
    with pytest.raises(po.PoError):
        po.parse(text)


# ----- choosing the language ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "vi_VN.UTF-8"}, "vi"),
        ({"LANGUAGE": "vi"}, "vi"),
        ({"LANGUAGE": "vi:en"}, "vi"),
        ({"LANGUAGE": "en_US:vi", "LANG": "vi_VN.UTF-8"}, "en"),
        ({"LANGUAGE": "", "LC_ALL": "vi_VN.UTF-8", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LC_ALL": "C.UTF-8", "LANG": "vi_VN.UTF-8"}, "en"),
        ({"LC_MESSAGES": "vi_VN", "LANG": "en_GB.UTF-8"}, "vi"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
    ],
)
def test_default_language_follows_the_first_set_variable(
    environ: dict[str, str], expected: str
) -> None:
    assert i18n.default_language(environ) == expected


def test_set_language_and_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "vi_VN")
    assert i18n.language() == "vi"
    assert i18n._("the order") == "đơn hàng"
    i18n.set_language("en")
    try:
        assert i18n._("the order") == "the order"
        with pytest.raises(ValueError, match="unknown language"):
            i18n.set_language("fr")
    finally:
        i18n.set_language(None)
    assert i18n.language() == "vi"


def test_check_and_demo_take_lang() -> None:
    """`--lang` is passed on to the checks; only en and vi are accepted."""
    parser = build_parser()
    args = parser.parse_args(["check", "--participant", "ana", "--lang", "vi"])
    assert args.lang == "vi"
    assert pytest_args(args)[-2:] == ["--lang", "vi"]
    assert "--lang" not in pytest_args(parser.parse_args(["check", "--participant", "ana"]))
    assert parser.parse_args(["demo", "--lang", "en"]).lang == "en"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["check", "--participant", "ana", "--lang", "fr"])
    assert exited.value.code == 2


# ----- a graded run in Vietnamese -------------------------------------------------------------
def make_sim() -> Simulator:
    return Simulator(SimConfig(lag=1.0, jitter=0.0), clock=ManualClock(start=time.time()))


def test_graded_run_in_vietnamese_when_nothing_is_done(
    tmp_path: Path, vietnamese: dict[str, po.Message]
) -> None:
    """Titles, hints, skip reasons and HTML labels come out in Vietnamese; data does not."""
    sim = make_sim()
    _, english = grade(sim, "ana", tmp_path / "en")
    code, report = grade(sim, "ana", tmp_path / "vi", lang="vi")
    assert code == 1
    assert report["lang"] == "vi"
    assert english["lang"] == "en"
    for translated, original in zip(report["steps"], english["steps"], strict=True):
        assert translated["title"] == vietnamese[original["title"]].translations[0]
        assert translated["status"] == original["status"]  # statuses are data, not labels
    created = step(report, "ex1.user_created")["hint"]
    assert created.startswith("Người dùng USER#global-user-ana / PROFILE không có ở us-east-1.")
    skipped = step(report, "ex1.user_replicated")["hint"]
    assert (
        skipped
        == "bỏ qua: cần ex1.user_created (Đã tạo người dùng toàn cầu ở vùng chính) đạt trước"
    )
    page = html.unescape((tmp_path / "vi" / "ana.html").read_text(encoding="utf-8"))
    assert "Người tham gia" in page
    assert "Bài tập 1" in page
    assert "Giải quyết xung đột" in page
    assert i18n.language() == "en"  # the run's language ends with the run


def test_graded_run_in_vietnamese_when_everything_is_done(tmp_path: Path) -> None:
    """A full pass: the conflict's winner is named in Vietnamese, the region as it is."""
    sim = make_sim()
    write_workshop(sim, "ana")
    code, report = grade(sim, "ana", tmp_path, lang="vi")
    assert (code, report["score"]) == (0, 100)
    assert step(report, "ex3.lww_coherent")["hint"].startswith(
        "Bản cập nhật từ eu-west-1 đã thắng (total_amount 200)."
    )


def test_terminal_summary_in_vietnamese(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The summary's status column, titles and score line follow --lang."""
    from gtcheck import check
    from gtcheck.config import Runtime

    sim = make_sim()
    args = argparse.Namespace(
        participant="ana",
        product_id=None,
        endpoint_url=None,
        profile=None,
        table=sim.config.table,
        regions=sim.config.regions,
        timeout=5.0,
        report_dir=tmp_path,
        lang="vi",
        no_html=True,
    )
    runtime = Runtime(session=sim.session(), monotonic=sim.clock.now, sleep=sim.advance)
    check.run(args, runtime)
    out = capsys.readouterr().out
    assert "điểm 0 / 100" in out
    assert "không đạt" in out
    assert "Đã tạo người dùng toàn cầu ở vùng chính" in out


# ----- terminology: the glossary beside the catalogue ---------------------------------------
GLOSSARY = VIETNAMESE.parent.parent / "glossary.tsv"


@dataclass(frozen=True)
class Term:
    english: str
    vietnamese: str
    avoid: str


def load_glossary(path: Path = GLOSSARY) -> list[Term]:
    """The glossary's rows: tab-separated, a header row, `#` lines are comments."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = list(csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t"))
    assert rows[0][:3] == ["english", "vietnamese", "avoid"], rows[0]
    return [Term(row[0], row[1], row[2]) for row in rows[1:]]


def term_spans(english: str, msgid: str) -> list[tuple[int, int]]:
    """Where `english` occurs as a term: whole words, any case, a plural `s` allowed, never
    part of an identifier (update_timestamp), a key (eu-product, REPLICATION) or a
    {placeholder}."""
    words = r"\s+".join(map(re.escape, english.split()))
    pattern = rf"(?<![\w{{#.\-]){words}s?(?![\w}}#\-])"
    return [
        match.span()
        for match in re.finditer(pattern, msgid, re.IGNORECASE)
        if not (len(match.group()) > 1 and match.group().isupper())
    ]


def glossary_problems(glossary: list[Term], msgid: str, translation: str) -> list[str]:
    """How a translation strays from the glossary; the longest term covering a span rules."""
    claimed: list[tuple[int, int]] = []
    matched: list[Term] = []
    for term in sorted(glossary, key=lambda term: -len(term.english)):
        for start, end in term_spans(term.english, msgid):
            if not any(start < right and left < end for left, right in claimed):
                claimed.append((start, end))
                if term not in matched:
                    matched.append(term)
    text = unicodedata.normalize("NFC", translation).casefold()
    problems = [
        f"{term.english!r} is not rendered {term.vietnamese!r}"
        for term in matched
        if term.vietnamese.casefold() not in text
    ]
    needed = [term.vietnamese.casefold() for term in matched]
    problems += [
        f"{term.english!r} must not be rendered {term.avoid!r}"
        for term in matched
        if term.avoid
        and term.avoid.casefold() in text
        and not any(term.avoid.casefold() in need for need in needed)
    ]
    return problems


def test_glossary_terms_are_followed(vietnamese: dict[str, po.Message]) -> None:
    """Every msgid holding a glossary term is translated with the glossary's Vietnamese."""
    glossary = load_glossary()
    assert len({term.english.casefold() for term in glossary}) == len(glossary)
    strays = {
        msgid: problems
        for msgid, message in vietnamese.items()
        for translation in message.translations
        if (problems := glossary_problems(glossary, msgid, translation))
    }
    assert not strays, strays


@pytest.mark.parametrize(
    ("msgid", "translation", "problem"),
    [
        ("A global table", "Bảng toàn cục", "not rendered 'Global Table'"),
        ("Global user", "Người dùng toàn cục", "not rendered 'người dùng toàn cầu'"),
        ("an identical copy", "một bản nguyên vẹn", "must not be rendered 'nguyên vẹn'"),
        ("Copy", "Bản sao", "must not be rendered 'bản sao'"),
    ],
)
def test_glossary_catches_drift(msgid: str, translation: str, problem: str) -> None:
    """The check itself: the drifts the glossary was written against are caught."""
    problems = glossary_problems(load_glossary(), msgid, translation)
    assert any(problem in found for found in problems), problems


def test_glossary_ignores_identifiers_and_placeholders() -> None:
    """update_timestamp, eu-product and {region} are not the words timestamp, product, region."""
    assert term_spans("timestamp", "with update_timestamp") == []
    assert term_spans("product", "PRODUCT#eu-product-P") == []
    assert term_spans("region", "in {region}, region_created") == []
    assert term_spans("replica", "replicated") == []
    assert term_spans("replication", "TEST#timing-* / REPLICATION") == []
    assert term_spans("region", "every regions") == [(6, 13)]


def test_catalogue_passes_msgfmt_check() -> None:
    """`msgfmt --check` (header fields included) has nothing to say, where it is installed;
    the header fields it asks for are checked here either way."""
    header = po.parse(VIETNAMESE.read_text(encoding="utf-8"))[0]
    fields = dict(
        line.split(": ", 1) for line in header.translations[0].splitlines() if ": " in line
    )
    for name in ("Project-Id-Version", "PO-Revision-Date", "Last-Translator", "Language-Team"):
        assert fields.get(name, "").strip(), name
    assert fields["Language"] == "vi"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return
    done = subprocess.run(
        [msgfmt, "--check", "--verbose", "-o", os.devnull, str(VIETNAMESE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr
