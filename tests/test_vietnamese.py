"""Vietnamese participants are graded as truly as English ones: their page's placeholders,
their names in either Unicode normal form or without marks, the bot reading their page, and
the page's last-writer-wins claim quoted where gtcheck corrects it."""

from __future__ import annotations

import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from gtcheck import names, options, templates, workshop
from gtcheck.aws import Clients, Target
from gtcheck.bot import plan, solve
from gtcheck.cli import build_parser
from gtcheck.diagnose import (
    CASE,
    DIACRITICS,
    NORMAL_FORM,
    PLACEHOLDER,
    TYPO,
    WHITESPACE,
    WORD_ORDER,
    near_misses,
    why_near,
)
from gtcheck.errors import UsageError
from gtcheck.sim import SimConfig, Simulator
from gtcheck.sim.clock import TickingClock
from gtcheck.templates import Placeholders
from tests.grading import grade, placeholders, put, step, verdicts, write_workshop

NAME = "Nguyễn Văn An"
NFC, NFD = unicodedata.normalize("NFC", NAME), unicodedata.normalize("NFD", NAME)


def solved(
    participant: str, *, language: str = "en", mistakes: frozenset[str] = frozenset()
) -> Simulator:
    """A simulator where `participant` has performed the workshop from `language`'s page."""
    start = float(int(time.time()))  # whole seconds: the streams can tell where writes began
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0, seed=3), clock=TickingClock(start))
    target = Target(table=sim.config.table, regions=sim.config.regions)
    solve(
        Clients(target, sim.session(), read_only=False),
        target,
        Placeholders(participant=participant, product_id=participant),
        mistakes=mistakes,
        sleep=sim.advance,
        monotonic=sim.clock.now,
        now=sim.clock.now,
        language=language,
    )
    return sim


def test_the_name_is_really_in_two_forms() -> None:
    """The test's premise: the forms differ in bytes and agree after NFC."""
    assert NFC != NFD
    assert names.same_name(NFC, NFD)
    assert (names.normal_form(NFC), names.normal_form(NFD)) == ("NFC", "NFD")


# ----- names in another normal form, without marks, in another order ------------------------
def test_solved_in_nfd_checked_in_nfc_scores_full_marks_with_a_note(tmp_path: Path) -> None:
    """The console stored the name in NFD, the participant types NFC: 100, and a note (in
    either language); typed as stored, no note."""
    sim = solved(NFD)
    for lang in ("en", "vi"):
        code, report = grade(sim, NFC, tmp_path / lang, lang=lang)
        assert (code, report["score"]) == (0, 100), report
        created = step(report, "ex1.user_created")
        assert created["status"] == "passed"
        assert "NFD" in created["hint"]
        assert "NFC" in created["hint"]
        assert NFD in created["hint"]  # the stored form, as stored
        assert created["evidence"]["participant_stored_as"] == NFD
        assert report["participant"] == NFC  # the report shows the name as typed
    code, report = grade(sim, NFD, tmp_path / "as-stored")
    assert (code, report["score"]) == (0, 100)
    assert step(report, "ex1.user_created")["hint"] is None


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("nguyen-van-an", "the same letters with other diacritics"),
        ("an-van-nguyen", "the same words in another order"),
    ],
)
def test_a_name_without_marks_or_in_another_order_is_a_near_miss(
    tmp_path: Path, typed: str, reason: str
) -> None:
    """`nguyen-van-an` against a table holding `Nguyễn-Văn-An`: the hint names the key."""
    sim = Simulator(SimConfig(lag=1.0, jitter=0.0), clock=TickingClock(float(int(time.time()))))
    write_workshop(sim, "Nguyễn-Văn-An")
    code, report = grade(sim, typed, tmp_path)
    assert code == 1
    created = step(report, "ex1.user_created")
    assert created["status"] == "failed"
    assert "USER#global-user-Nguyễn-Văn-An / PROFILE" in created["hint"]
    assert reason in created["hint"]


# ----- placeholders of either page, in either language ---------------------------------------
HINTS = {
    "en": "the placeholder {placeholder} is still there: type {value} in its place",
    "vi": "phần giữ chỗ {placeholder} vẫn còn nguyên: hãy gõ {value} vào chỗ đó",
}


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("page", ["en", "vi"])
def test_an_unreplaced_name_placeholder_gets_the_placeholder_hint(
    tmp_path: Path, sim: Simulator, lang: str, page: str
) -> None:
    """A key holding `[tên-của-bạn]` (or `[your-name]`) is a placeholder, in any --lang."""
    put(sim, "us-east-1", templates.load(templates.USER, page))  # nothing replaced
    code, report = grade(sim, "an", tmp_path, lang=lang)
    assert code == 1
    marker = workshop.page_placeholders(page).participant
    created = step(report, "ex1.user_created")
    assert created["status"] == "failed"
    assert HINTS[lang].format(placeholder=marker, value="an") in created["hint"]


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_an_unreplaced_product_placeholder_gets_the_placeholder_hint(
    tmp_path: Path, sim: Simulator, lang: str
) -> None:
    """`[id-duy-nhat]` left in the product key: named whether --product-id is given or not."""
    user = templates.render(templates.load(templates.USER, "vi"), placeholders("an"))
    put(sim, "us-east-1", user)
    put(sim, "eu-west-1", templates.load(templates.PRODUCT, "vi"))
    sim.advance(2.0)
    _, given = grade(sim, "an", tmp_path / "given", product_id="an", lang=lang)
    hint = step(given, "ex2.product_created")["hint"]
    assert HINTS[lang].format(placeholder="[id-duy-nhat]", value="an") in hint
    _, found = grade(sim, "an", tmp_path / "found", lang=lang)
    created = step(found, "ex2.product_created")
    assert created["status"] == "failed"
    assert "PRODUCT#eu-product-[id-duy-nhat]" in created["hint"]
    assert "--product-id" in created["hint"]


@pytest.mark.parametrize(("lang", "marker"), [("en", "[unique-id]"), ("vi", "[id-duy-nhat]")])
def test_hints_name_the_placeholder_as_the_participants_page_shows_it(
    tmp_path: Path, sim: Simulator, lang: str, marker: str
) -> None:
    """Asking for --product-id, the hint says `[id-duy-nhat]` to a Vietnamese reader."""
    for product_id in ("x1", "x2"):
        put(
            sim,
            "eu-west-1",
            templates.render(templates.load(templates.PRODUCT), placeholders("an", product_id)),
        )
    _, report = grade(sim, "an", tmp_path, lang=lang)
    hint = step(report, "ex2.product_created")["hint"]
    assert "--product-id" in hint
    assert marker in hint


# ----- the bot reads either page ------------------------------------------------------------
def test_the_vietnamese_templates_are_the_english_ones_with_their_own_placeholders() -> None:
    """Every attribute value is the page's; only the markers differ, and fill in alike."""
    values = placeholders("an")
    for name in (templates.USER, templates.PRODUCT, templates.ORDER, templates.TIMING):
        vi, en = templates.load(name, "vi"), templates.load(name)
        assert vi != en or name == templates.TIMING
        assert templates.render(vi, values) == templates.render(en, values)
    assert "[tên-của-bạn]" in templates.load(templates.USER, "vi")["PK"]
    assert "[id-duy-nhat]" in templates.load(templates.PRODUCT, "vi")["PK"]


def test_solve_takes_lang() -> None:
    parser = build_parser()
    args = parser.parse_args(["solve", "--participant", "an", "--lang", "vi"])
    assert args.lang == "vi"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["solve", "--participant", "an", "--lang", "fr"])
    assert exited.value.code == 2


def test_solve_from_the_vietnamese_page_scores_full_marks(tmp_path: Path) -> None:
    """No Vietnamese marker is left in what the bot writes, and the check scores 100."""
    chosen = plan(Placeholders("an", "an"), language="vi")
    written = repr([chosen.user, chosen.product, chosen.order])
    assert not any(marker in written for marker in workshop.every_marker())
    code, report = grade(solved("an", language="vi"), "an", tmp_path, lang="vi")
    assert (code, report["score"]) == (0, 100)


def test_the_placeholder_mistake_from_the_vietnamese_page(tmp_path: Path) -> None:
    """`--mistake unreplaced-placeholder --lang vi` leaves `[tên-của-bạn]`; the hint names it."""
    chosen = plan(Placeholders("an", "an"), {"unreplaced-placeholder"}, language="vi")
    assert chosen.user["GSI1PK"] == "USER#[tên-của-bạn]@global.com"
    sim = solved("an", language="vi", mistakes=frozenset({"unreplaced-placeholder"}))
    code, report = grade(sim, "an", tmp_path, lang="vi")
    assert code == 1
    failed = {name for name, status in verdicts(report).items() if status != "passed"}
    assert failed == {"ex1.user_created"}
    assert "[tên-của-bạn]" in step(report, "ex1.user_created")["hint"]


# ----- the page's last-writer-wins claim, quoted where it is corrected -------------------------
CLAIMS = {
    "en": ("“Later timestamp wins”", "whatever its update_timestamp attribute says"),
    "vi": ("“Cập nhật có dấu thời gian sau cùng sẽ thắng”", "theo Last Writer Wins"),
}


def test_the_lww_note_quotes_the_pages_claim(tmp_path: Path, sim: Simulator) -> None:
    """Each language's explanation quotes its own page's claim, then corrects it."""
    write_workshop(sim, "an")
    for lang, (claim, words) in CLAIMS.items():
        code, report = grade(sim, "an", tmp_path / lang, lang=lang)
        assert code == 0
        hint = step(report, "ex3.lww_coherent")["hint"]
        assert claim in hint
        assert words in hint


# ----- diagnosis, unit by unit ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("wanted", "found", "kind"),
    [
        ("USER#global-user-" + NFC, "USER#global-user-" + NFD, NORMAL_FORM),
        ("USER#global-user-an", "USER#global-user-an ", WHITESPACE),
        ("USER#global-user-" + NFC, "USER#global-user-" + NAME.upper(), CASE),
        ("USER#global-user-an", "USER#global-user-[tên-của-bạn]", PLACEHOLDER),
        ("USER#global-user-an", "USER#global-user-[your-name]", PLACEHOLDER),
        ("PRODUCT#eu-product-p1", "PRODUCT#eu-product-[id-duy-nhat]", PLACEHOLDER),
        ("USER#global-user-nguyen-van-an", "USER#global-user-Nguyễn-Văn-An", DIACRITICS),
        ("USER#global-user-dang", "USER#global-user-Đặng", DIACRITICS),
        ("USER#global-user-Van-An-Nguyen", "USER#global-user-Nguyễn-Văn-An", WORD_ORDER),
        ("USER#global-user-nguyen", "USER#global-user-nguyne", TYPO),
        ("USER#global-user-nguyen", "USER#global-user-tran", None),
    ],
)
def test_why_near(wanted: str, found: str, kind: str | None) -> None:
    reason = why_near(wanted, found)
    assert (reason.kind if reason else None) == kind


def test_a_placeholder_near_miss_says_what_belongs_in_its_place() -> None:
    scans = {"us-east-1": [{"PK": {"S": "USER#global-user-[tên-của-bạn]"}, "SK": {"S": "PROFILE"}}]}
    (miss,) = near_misses(("USER#global-user-Nguyễn", "PROFILE"), scans)
    assert miss.cause == "unreplaced-placeholder"
    ((_, reason),) = miss.reasons
    assert (reason.placeholder, reason.replacement) == ("[tên-của-bạn]", "Nguyễn")


def test_every_pages_markers_are_known() -> None:
    markers = workshop.every_marker()
    for page in workshop.PAGE_PLACEHOLDERS.values():
        assert set(page.markers()) <= set(markers)
    assert "[tên-của-bạn]" in markers
    assert "[Tên Của Bạn]" in markers


def test_the_stored_name_and_key_are_found_by_nfc() -> None:
    held = {workshop.user_key(NFD), workshop.order_key(NFD), ("USER#global-user-bob", "PROFILE")}
    assert workshop.stored_name(NFC, held) == NFD
    assert workshop.stored_name(NFD, held) == NFD
    assert workshop.stored_name("bob", held) == "bob"
    assert workshop.stored_name("nguyen van an", held) is None  # a near miss, not a match
    assert workshop.stored_key(workshop.order_key(NFC), held) == workshop.order_key(NFD)
    assert workshop.stored_key(("x", "y"), held) == ("x", "y")


# ----- a name that is not text ------------------------------------------------------------------
def test_a_surrogate_escaped_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not valid UTF-8"):
        options.participant_name("Nguy\udce1n")


@pytest.mark.parametrize("command", ["check", "solve", "cleanup"])
def test_a_name_that_is_not_utf8_ends_in_one_line_and_exit_2(command: str) -> None:
    """The shell hands over bytes that are not UTF-8: one line, exit 2, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "gtcheck", command, "--participant", b"Nguy\xe1n"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    assert len(lines) == 1, lines
    assert "not valid UTF-8" in lines[0]
    assert "Traceback" not in lines[0]
    assert not done.stdout
