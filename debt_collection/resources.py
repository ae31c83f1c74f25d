"""Collections' spreadsheet import kinds: cases handed to an outside agency, and its results.

Thin adapters (DESIGN §3.2): a hand-out goes through case_reassign (the manager's bulk
reassignment: permission, queue, members, the assignment record); each contact through
contact_log, so the compliance guard (contact hours, daily and weekly limits, holds,
emergency-contact rules) judges it exactly as for an agent in the admin — a refusal is that
row's error with the guard's code — and each promise through promise_record. Registered in
CollectionsConfig.ready; docs/imports.md describes the columns.
"""

from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from debt_collection.access import CollectionsPerm
from debt_collection.models import (
    Case,
    CaseStatus,
    Channel,
    ContactAttempt,
    Outcome,
    Party,
    Queue,
)
from debt_collection.services.cases import case_reassign
from debt_collection.services.contacts import contact_log
from debt_collection.services.promises import promise_record
from imports import values
from imports.engine import CellError, Fate, Parsed, Row
from imports.engine import Outcome as RowOutcome
from imports.registry import Column, Kind
from lending.models import EmergencyContact


def _options(choices, chinese: dict[str, str]) -> dict[str, str]:
    return {
        **{c.value: c.value for c in choices},
        **{str(c.label): c.value for c in choices},
        **chinese,
    }


CHANNELS = _options(
    Channel,
    {
        "电话": "call",
        "短信": "sms",
        "邮件": "email",
        "信函": "letter",
        "上门": "visit",
        "外访": "visit",
    },
)
PARTIES = _options(
    Party,
    {
        "本人": "borrower",
        "借款人": "borrower",
        "紧急联系人": "emergency_contact",
        "联系人": "emergency_contact",
    },
)
OUTCOMES = _options(
    Outcome,
    {
        "无人接听": "no_answer",
        "未接": "no_answer",
        "承诺还款": "promise_to_pay",
        "拒绝还款": "refused",
        "拒还": "refused",
        "争议": "dispute",
        "异议": "dispute",
        "错号": "wrong_number",
        "号码错误": "wrong_number",
        "称已还款": "paid",
        "已还款": "paid",
        "已故": "deceased",
        "死亡": "deceased",
        "其他": "other",
    },
)


def find_case(case: str, *fields) -> tuple:
    """The case a file names by its number, or by the loan reference of its open case."""
    rows = (
        Case.objects.filter(pk=int(case))
        if case.isdigit()
        else Case.objects.filter(loan__reference=case, status=CaseStatus.OPEN)
    )
    found = rows.values_list(*fields).first()
    if found is None:
        raise CellError("case", _("no open case with this number or loan reference"), case)
    return found


class AgencyRows:
    """One contact attempt per row (and the promise made in it): keyed by case, time, channel
    and party, so the agency's overlapping reports are duplicates."""

    def __init__(self, acting_user):
        self.acting_user = acting_user

    def parse(self, row: Row) -> Parsed:
        case = row.get("case", values.identifier, required=True)
        v = {
            "case": case,
            "contacted_at": row.get("contacted_at", values.parse_datetime, required=True),
            "channel": row.get(
                "channel", lambda c: values.choice(c, CHANNELS, what=_("a channel")), required=True
            ),
            "party": row.get(
                "party", lambda c: values.choice(c, PARTIES, what=_("a party")), required=True
            ),
            "connected": row.get("connected", values.boolean, required=True),
            "outcome": row.get(
                "outcome", lambda c: values.choice(c, OUTCOMES, what=_("an outcome")), required=True
            ),
            "promise_amount": row.get("promise_amount", values.amount),
            "promise_date": row.get("promise_date", values.parse_date),
            "contact_mobile": row.get("contact_mobile", values.identifier),
            "note": row.get("note", values.text) or "",
        }
        if v["promise_amount"] is not None and v["promise_date"] is None:
            raise CellError("promise_date", _("is required with a promise amount"))
        if v["promise_date"] is not None and v["promise_amount"] is None:
            raise CellError("promise_amount", _("is required with a promise date"))
        key = "|".join(str(v[k]) for k in ("case", "contacted_at", "channel", "party"))
        identity = {
            k: str(v[k]) for k in ("connected", "outcome", "promise_amount", "promise_date")
        }
        return Parsed(values=v, key=key, identity=identity)

    def _case(self, case: str) -> tuple[int, str, int]:
        return find_case(case, "pk", "time_zone", "borrower_id")

    def apply(self, parsed: Parsed) -> RowOutcome:
        v = parsed.values
        case_id, tz, borrower_id = self._case(v["case"])
        at = v["contacted_at"]
        if timezone.is_naive(at):  # the agency's clock: the borrower's local time
            at = at.replace(tzinfo=ZoneInfo(tz))
        if ContactAttempt.objects.filter(
            case_id=case_id, contacted_at=at, channel=v["channel"], party=v["party"]
        ).exists():
            return RowOutcome(Fate.DUPLICATE, _("this contact is already logged"))
        contact_id = None
        if v["party"] == Party.EMERGENCY_CONTACT:
            if not v["contact_mobile"]:
                raise CellError(
                    "contact_mobile", _("is required when the party is an emergency contact")
                )
            contact_id = next(
                (
                    c.pk
                    for c in EmergencyContact.objects.filter(borrower_id=borrower_id)
                    if c.phone == v["contact_mobile"]
                ),
                None,
            )
            if contact_id is None:
                raise CellError(
                    "contact_mobile",
                    _("the borrower lists no emergency contact with this mobile"),
                    v["contact_mobile"],
                )
        attempt = contact_log(
            case_id=case_id,
            channel=v["channel"],
            party=v["party"],
            contacted_at=at,
            connected=v["connected"],
            outcome=v["outcome"],
            acting_user=self.acting_user,
            note=v["note"] or _("imported from an agency's results"),
            emergency_contact_id=contact_id,
        )
        if v["promise_amount"] is not None:
            promise_record(
                case_id=case_id,
                amount=v["promise_amount"],
                promised_for=v["promise_date"],
                acting_user=self.acting_user,
                contact_id=attempt.pk,
            )
        return RowOutcome(Fate.NEW)


AGENCY_RESULTS = Kind(
    name="agency_results",
    label=gettext_lazy("Agency results"),
    description=gettext_lazy(
        "An outside collection agency's contacts and promises: each contact through the "
        "compliance guard (a refusal is the row's error, with the guard's code and rule), each "
        "promise through the promise service. A contact already logged (same case, time, "
        "channel and party) is a duplicate. Times without an offset are the borrower's local "
        "time (the case's time zone)."
    ),
    permission=CollectionsPerm.LOG_CONTACT,
    handler=AgencyRows,
    columns=(
        Column(
            "case",
            "案件编号",
            True,
            gettext_lazy("case number, or the loan reference of its open case"),
            "17",
        ),
        Column(
            "contacted_at",
            "联系时间",
            True,
            gettext_lazy("date and time of the contact"),
            "2026-11-02 10:30",
        ),
        Column(
            "channel",
            "渠道",
            True,
            gettext_lazy("call, sms, email, letter, visit (电话/短信/…)"),
            "电话",
        ),
        Column(
            "party",
            "联系对象",
            True,
            gettext_lazy("borrower or emergency_contact (本人/紧急联系人)"),
            "本人",
        ),
        Column("connected", "是否接通", True, gettext_lazy("yes or no (是/否)"), "是"),
        Column(
            "outcome",
            "结果",
            True,
            gettext_lazy(
                "no_answer, promise_to_pay, refused, dispute, wrong_number, paid, deceased, other"
            ),
            "承诺还款",
        ),
        Column("promise_amount", "承诺金额", False, gettext_lazy("amount promised"), "1,000.00"),
        Column(
            "promise_date",
            "承诺日期",
            False,
            gettext_lazy("date promised (today to 90 days ahead)"),
            "2026-11-10",
        ),
        Column(
            "contact_mobile",
            "联系人手机号",
            False,
            gettext_lazy("the emergency contact's mobile, when the party is one"),
            "13900139000",
        ),
        Column("note", "备注", False, gettext_lazy("note"), ""),
    ),
    fields={
        "case": "case",
        "contacted_at": "contacted_at",
        "channel": "channel",
        "party": "party",
        "outcome": "outcome",
        "emergency_contact": "contact_mobile",
        "note": "note",
        "amount": "promise_amount",
        "promised_for": "promise_date",
    },
)


class AgencyHandOutRows:
    """One case per row, handed to an outside agency's queue (and to one of its accounts, or
    the member with the fewest open cases): keyed by case, so a case named twice is a duplicate
    or, with another agency, an error. A case already with that agency (and account) is
    skipped; the night leaves it there (DESIGN §8: cases sent to an agency stay)."""

    def __init__(self, acting_user):
        self.acting_user = acting_user

    def parse(self, row: Row) -> Parsed:
        v = {
            "case": row.get("case", values.identifier, required=True),
            "agency": row.get("agency", values.text, required=True),
            "collector": row.get("collector", values.text) or "",
            "reason": row.get("reason", values.text) or "",
        }
        return Parsed(
            values=v, key=v["case"], identity={"agency": v["agency"], "collector": v["collector"]}
        )

    def apply(self, parsed: Parsed) -> RowOutcome:
        v = parsed.values
        case_id, status, queue_id, collector_id = find_case(
            v["case"], "pk", "status", "queue_id", "collector_id"
        )
        if status != CaseStatus.OPEN:
            raise CellError("case", _("the case is closed"), v["case"])
        queue = Queue.objects.filter(name=v["agency"], active=True, outside_agency=True).first()
        if queue is None:
            raise CellError(
                "agency", _("no active outside-agency queue with this name"), v["agency"]
            )
        collector = None
        if v["collector"]:
            collector = queue.members.filter(username=v["collector"], is_active=True).first()
            if collector is None:
                raise CellError(
                    "collector", _("not an active member of the agency's queue"), v["collector"]
                )
        if queue_id == queue.pk and (collector is None or collector_id == collector.pk):
            return RowOutcome(Fate.SKIP, _("already with this agency"))
        case_reassign(
            case_ids=[case_id],
            queue_id=queue.pk,
            collector_id=collector.pk if collector else None,
            reason=v["reason"] or _("handed to %(agency)s by import") % {"agency": queue.name},
            acting_user=self.acting_user,
        )
        return RowOutcome(Fate.UPDATE)


AGENCY_HAND_OUT = Kind(
    name="agency_cases",
    label=gettext_lazy("Cases for an agency"),
    description=gettext_lazy(
        "Hand cases to an outside collection agency: each named case moves to the agency's "
        "queue (an active queue marked as an outside agency), to the account named or to the "
        "agency member with the fewest open cases, through the manager's reassignment (recorded "
        "like any hand-out). A case already there is skipped; the nightly run leaves it there."
    ),
    permission=CollectionsPerm.REASSIGN_CASE,
    handler=AgencyHandOutRows,
    columns=(
        Column(
            "case",
            "案件编号",
            True,
            gettext_lazy("case number, or the loan reference of its open case"),
            "17",
        ),
        Column(
            "agency",
            "委外机构",
            True,
            gettext_lazy("the outside-agency queue's name"),
            "Outside agency",
            aliases=("队列",),
        ),
        Column(
            "collector",
            "催收员",
            False,
            gettext_lazy("the agency account (user name) to take it; empty: the least loaded"),
            "",
        ),
        Column("reason", "原因", False, gettext_lazy("why it is handed out"), ""),
    ),
    fields={"case": "case", "queue": "agency", "collector": "collector", "reason": "reason"},
)
