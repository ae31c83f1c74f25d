"""Simplified Chinese is complete (issue 13): every msgid of the shipped catalogue translated, none
fuzzy, the compiled .mo holding exactly the .po, the .po holding every string the code marks;
and the refusals users meet most read in the request's language, with no English left in them.

The .po is parsed here (polib is not a dependency): entries, flags, contexts and plurals."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError, LendingErrorCode
from lending.models import Loan, LoanStatus

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# Hand-kept Chinese for installed apps that ship none (django-axes): docs/i18n.md.
VENDOR_PO = ROOT / "locale_vendor" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Letters that may stand in a Chinese sentence: codes and abbreviations, not English words.
ALLOWED = {"KYC", "LPR", "ID", "DTI", "CNY", "APR", "GB", "Asia", "Shanghai", "LN"}


def english_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED]


# --------------------------------------------------------------------------- the catalogue


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list: one per plural
    form), flags; the header (msgid "") and obsolete (#~) entries left out."""
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry and entry["msgid"] != "":
            entries.append(entry)

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            finish()
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] += _unquote(line)
            else:
                entry[key] += _unquote(line)
        else:
            word, _space, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", word)
            if match:
                key = ("msgstr", int(match.group(1)))
                entry["msgstr"][key[1]] = _unquote(rest)
            elif word == "msgstr":
                key = ("msgstr", 0)
                entry["msgstr"][0] = _unquote(rest)
            else:
                key = word
                entry[key] = _unquote(rest)
    return entries


def catalogue_key(entry: dict):
    msgid = (
        entry["msgid"] if entry["msgctxt"] is None else f"{entry['msgctxt']}\x04{entry['msgid']}"
    )
    return msgid


def label(entry: dict) -> str:
    return f"{entry['msgctxt'] + ' | ' if entry['msgctxt'] else ''}{entry['msgid']!r}"


def test_the_po_parser_reads_contexts_plurals_and_flags(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "c"\nmsgid "a %s"\nmsgstr ""\n"b %s"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "x"\nmsgstr[1] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr "走了"\n',
        encoding="utf-8",
    )
    first, second = parse_po(po)
    assert (first["msgctxt"], first["msgid"], first["msgstr"]) == ("c", "a %s", {0: "b %s"})
    assert first["flags"] == {"fuzzy", "python-format"}
    assert (second["msgid_plural"], second["msgstr"]) == ("many", {0: "x", 1: ""})


def test_every_msgid_is_translated_and_none_is_fuzzy():
    entries = parse_po(PO)
    assert len(entries) > 800
    untranslated = [label(e) for e in entries if not all(e["msgstr"].values())]
    fuzzy = [label(e) for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], f"{len(untranslated)} untranslated: {untranslated[:20]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy: {fuzzy[:20]}"


def test_translations_keep_every_placeholder_of_their_msgid():
    placeholder = re.compile(r"%(?:\(\w+\))?[-+ #0]*\d*(?:\.\d+)?[sdrfi%]")
    wrong = []
    for entry in parse_po(PO):
        wanted = sorted(placeholder.findall(entry["msgid"]))
        for text in entry["msgstr"].values():
            if sorted(placeholder.findall(text)) != wanted and "python-format" in entry["flags"]:
                wrong.append(label(entry))
    assert wrong == []


@pytest.mark.parametrize("po", [PO, VENDOR_PO], ids=["locale", "locale_vendor"])
def test_the_compiled_mo_holds_exactly_the_po(po):
    """A .mo compiled before the last edit of the .po would serve old or missing texts."""
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in parse_po(po):
        key = catalogue_key(entry)
        if entry["msgid_plural"] is None:
            expected[key] = entry["msgstr"][0]
        else:
            for n, text in entry["msgstr"].items():
                expected[(key, n)] = text
    compiled = {k: v for k, v in compiled.items() if k != ""}  # the header
    missing = sorted(str(k) for k in expected if k not in compiled)
    stale = sorted(str(k) for k in compiled if k not in expected)
    changed = sorted(str(k) for k in expected if k in compiled and compiled[k] != expected[k])
    assert (missing, stale, changed) == ([], [], []), "run compilemessages"


def test_the_po_holds_every_string_the_code_marks(tmp_path):
    """makemessages, run on a copy of the sources, finds no msgid the shipped .po lacks (and
    the .po keeps none the code no longer has)."""
    if shutil.which("xgettext") is None:
        pytest.skip("gettext tools are not installed")
    copy = tmp_path / "src"
    skip = {".venv", "var", "bench", "tests", ".git", "node_modules", "__pycache__"}
    copy.mkdir()
    for item in ROOT.iterdir():
        if item.name in skip or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(item, copy / item.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, copy / item.name)
    env = {**os.environ, "DEBUG": "1", "SECRET_KEY": "x"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [
            *(sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"),
            *("-i", ".venv/*", "-i", "var/*", "-i", "bench/*", "-i", "tests/*"),
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # The vendor catalogue is kept by hand: makemessages writes locale/ (first in LOCALE_PATHS).
    vendor = copy / VENDOR_PO.relative_to(ROOT)
    assert vendor.read_bytes() == VENDOR_PO.read_bytes()
    assert sorted(p.name for p in vendor.parent.parent.parent.iterdir()) == ["zh_Hans"]
    fresh = {catalogue_key(e) for e in parse_po(copy / PO.relative_to(ROOT))}
    shipped = {catalogue_key(e) for e in parse_po(PO)}
    assert sorted(fresh - shipped) == [], "new msgids: run makemessages and translate them"
    assert sorted(shipped - fresh) == [], "msgids no longer in the code: run makemessages"


# --------------------------------------------------------------------------- third-party apps


def test_the_vendor_catalogue_is_translated_and_only_fills_gaps():
    """Every entry translated, none fuzzy; none also in locale/ (one place per msgid) and none
    that an installed app or Django already translates: the catalogues are merged into one per
    language, so a vendor entry would silently override theirs everywhere."""
    from django.apps import apps

    entries = parse_po(VENDOR_PO)
    assert len(entries) >= 20
    assert [label(e) for e in entries if not all(e["msgstr"].values())] == []
    assert [label(e) for e in entries if "fuzzy" in e["flags"]] == []
    vendor = {catalogue_key(e) for e in entries}
    assert sorted(vendor & {catalogue_key(e) for e in parse_po(PO)}) == []
    shipped = [Path(a.path) / "locale" for a in apps.get_app_configs()]
    shipped.append(Path(translation.__file__).parent.parent.parent / "conf" / "locale")
    theirs = set()
    for locale in shipped:
        for mo in locale.glob("zh_Hans/LC_MESSAGES/*.mo"):
            with mo.open("rb") as handle:
                theirs |= set(gettext.GNUTranslations(handle)._catalog)
    assert sorted(vendor & theirs) == []


def test_the_login_protection_pages_read_in_chinese():
    """django-axes ships no Chinese: its section and models in the side menu come from
    locale_vendor/ (the section's name from config/vendor_apps.py, in locale/)."""
    from django.apps import apps

    axes = apps.get_app_config("axes")
    with translation.override("zh-hans"):
        names = [str(m._meta.verbose_name_plural) for m in axes.get_models()]
        section = str(axes.verbose_name)
        locked = translation.gettext(
            "Account locked: too many login attempts. Please try again later."
        )
    assert section == "登录保护"
    assert [n for n in names if english_words(n)] == [], names
    assert "登录日志" in names and "登录失败记录" in names
    assert not english_words(locked)
    with translation.override("en"):
        assert str(axes.verbose_name) == "Login protection"


# --------------------------------------------------------------------------- refusals


def refusal(language: str, func, *args, **kwargs) -> LendingError:
    with translation.override(language), pytest.raises(LendingError) as caught:
        func(*args, **kwargs)
    return caught.value


def in_both(func, *args, **kwargs) -> tuple[LendingError, LendingError]:
    """The same refusal under English and under Chinese (the first changes nothing)."""
    return refusal("en", func, *args, **kwargs), refusal("zh-hans", func, *args, **kwargs)


@pytest.mark.django_db
def test_a_repayment_on_a_closed_loan(role_user):
    from lending.services.repayments import repayment_post
    from tests.lending.loan_helpers import active_loan

    loan = active_loan()
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.CLOSED)
    english, chinese = in_both(
        repayment_post,
        loan_id=loan.pk,
        amount="100.00",
        value_date=date(2026, 2, 1),
        acting_user=role_user(roles.FINANCE),
    )
    assert english.code == chinese.code == LendingErrorCode.LOAN_NOT_ACTIVE
    assert english.message == (
        f"loan {loan.reference} is closed; repayments can only be posted to active loans"
    )
    assert "已结清" in chinese.message and loan.reference in chinese.message
    assert english_words(chinese.message.replace(loan.reference, "")) == []


@pytest.mark.django_db
def test_a_permission_refusal(role_user):
    from lending.services.loans import loan_write_off
    from tests.lending.loan_helpers import active_loan

    loan = active_loan()
    english, chinese = in_both(
        loan_write_off,
        loan_id=loan.pk,
        reason="uncollectable",
        value_date=date(2026, 3, 1),
        acting_user=role_user(roles.COLLECTOR),
    )
    assert english.code == chinese.code == LendingErrorCode.PERMISSION_DENIED
    assert english.message == "you do not have permission to write off loans"
    assert "核销" in chinese.message and english_words(chinese.message) == []


@pytest.fixture
def referral(role_user):
    """An application referred to review (declared income, no bureau score), submitted by an
    officer."""
    from risk.models import IncomeSource
    from risk.services.underwriting import application_submit
    from tests.factories import ProductFactory
    from tests.risk.test_reason_texts import borrower_with

    submitter = role_user(roles.CREDIT_OFFICER, username="submitter")
    application = application_submit(
        borrower_id=borrower_with(income_source=IncomeSource.DECLARED, bureau_score=None).pk,
        product=ProductFactory(),
        amount=Decimal("5000.00"),
        term_months=6,
        acting_user=submitter,
        as_of=date(2026, 11, 29),
    )
    return application, submitter


@pytest.mark.django_db
def test_a_four_eyes_refusal(referral):
    from risk.services.underwriting import application_review

    application, submitter = referral
    english, chinese = in_both(
        application_review,
        application_id=application.pk,
        approve=True,
        note="fine",
        acting_user=submitter,
    )
    assert english.code == chinese.code == LendingErrorCode.SAME_PERSON
    assert english.message == (
        "you submitted this application; another credit officer must review it"
    )
    assert english_words(chinese.message) == []


@pytest.mark.django_db
def test_a_limit_refusal(referral, role_user):
    from risk.models import LimitStatus
    from risk.services.limits import credit_limit_change
    from risk.services.underwriting import application_review

    application, _submitter = referral
    credit_limit_change(
        borrower=application.borrower,
        kind="set",
        amount=Decimal("4999.99"),
        status=LimitStatus.ACTIVE,
        reason="cut while in review",
        acting_user=SYSTEM,
    )
    english, chinese = in_both(
        application_review,
        application_id=application.pk,
        approve=True,
        note="fine",
        acting_user=role_user(roles.CREDIT_OFFICER, username="reviewer"),
    )
    assert english.code == chinese.code == LendingErrorCode.LIMIT_EXCEEDED
    assert english.message.endswith(
        "plus 5000.00 requested exceeds the limit of 4999.99 (available 4999.99)"
    )
    assert "4999.99" in chinese.message and english_words(chinese.message) == []


@pytest.mark.django_db
def test_a_compliance_guard_refusal(role_user):
    from debt_collection.errors import CollectionsErrorCode
    from debt_collection.models import Queue
    from debt_collection.services.cases import case_reassign
    from debt_collection.services.contacts import contact_log
    from tests.collections.helpers import local, open_case, overdue_loans

    collector = role_user(roles.COLLECTOR, username="collector")
    (loan,) = overdue_loans()
    case = open_case(loan)
    Queue.objects.get(name="M1 early reminders").members.add(collector)
    case_reassign(case_ids=[case.pk], collector_id=collector.pk, reason="t", acting_user=SYSTEM)
    english, chinese = in_both(
        contact_log,
        case_id=case.pk,
        channel="call",
        party="borrower",
        contacted_at=local(2026, 11, 10, 22, 30),
        connected=False,
        outcome="no_answer",
        acting_user=collector,
    )
    assert english.code == chinese.code == CollectionsErrorCode.CONTACT_OUTSIDE_HOURS
    assert english.message.startswith("Contact hours: 22:30:00 in Asia/Shanghai is outside")
    assert "22:30:00" in chinese.message and english_words(chinese.message) == []


@pytest.mark.django_db
def test_bad_input_names_its_problem_in_chinese():
    from lending.validation import parse_amount

    english, chinese = in_both(parse_amount, "-5", field="amount")
    assert english.message == "must be greater than zero"
    assert english_words(chinese.message) == [] and chinese.field == "amount"
