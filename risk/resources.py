"""Risk's spreadsheet import kind: bureau data for risk profiles.

A thin adapter (DESIGN §3.2): each row goes to risk_profile_save with the uploading user, so
the permission, the field checks and the audit are the service's. Registered in
RiskConfig.ready; docs/imports.md describes the columns.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports import values
from imports.engine import CellError, Fate, Outcome, Parsed, Row
from imports.registry import Column, Kind
from lending.access import Perm
from lending.resources import borrower_by_national_id, national_id
from risk.models import RiskProfile
from risk.services.profiles import risk_profile_save

FIELDS = {
    "score": "bureau_score",
    "inquiries_6m": "bureau_inquiries_6m",
    "delinquencies": "bureau_current_delinquencies",
}


class BureauRows:
    """Keyed by national ID: the bureau figures of the report dated `as_of`. A report older
    than the one on file is skipped (a late file never overwrites a newer report)."""

    def __init__(self, acting_user):
        self.acting_user = acting_user

    def parse(self, row: Row) -> Parsed:
        number = national_id(row)
        changes = {
            field: row.get(column, values.integer)
            for column, field in FIELDS.items()
            if row.has(column)
        }
        changes["bureau_reported_on"] = row.get("as_of", values.parse_date, required=True)
        identity = {column: str(changes.get(field)) for column, field in FIELDS.items()}
        identity["as_of"] = changes["bureau_reported_on"].isoformat()
        return Parsed(
            values={"national_id": number, "changes": changes}, key=number, identity=identity
        )

    def apply(self, parsed: Parsed) -> Outcome:
        number, changes = parsed.values["national_id"], parsed.values["changes"]
        borrower = borrower_by_national_id(number)
        if borrower is None:
            raise CellError(
                "national_id",
                _("no borrower with this national ID: import the borrowers first"),
                number,
            )
        profile = RiskProfile.objects.filter(borrower=borrower).first()
        if profile is not None:
            on_file = profile.bureau_reported_on
            if on_file and changes["bureau_reported_on"] < on_file:
                return Outcome(
                    Fate.SKIP,
                    _("older than the report on file (%(date)s)") % {"date": on_file},
                )
            if all(getattr(profile, k) == v for k, v in changes.items()):
                return Outcome(Fate.SKIP, _("unchanged"))
        risk_profile_save(borrower_id=borrower.pk, acting_user=self.acting_user, **changes)
        return Outcome(Fate.NEW if profile is None else Fate.UPDATE)


BUREAU = Kind(
    name="bureau",
    label=gettext_lazy("Bureau data"),
    description=gettext_lazy(
        "Credit bureau figures for the borrowers' risk profiles, keyed by national ID: score, "
        "inquiries in the last six months, current delinquencies and the report date. A report "
        "older than the one on file is skipped; the same report again changes nothing."
    ),
    permission=Perm.EDIT_RISK_PROFILE,
    handler=BureauRows,
    columns=(
        Column(
            "national_id",
            "身份证号",
            True,
            gettext_lazy("borrower's national ID (the key)"),
            "110101199003070015",
        ),
        Column(
            "score",
            "征信分",
            False,
            gettext_lazy("bureau score"),
            "720",
            ("bureau_score", "信用分"),
        ),
        Column(
            "inquiries_6m", "近6月查询次数", False, gettext_lazy("inquiries, last 6 months"), "2"
        ),
        Column(
            "delinquencies", "逾期次数", False, gettext_lazy("current delinquencies elsewhere"), "0"
        ),
        Column("as_of", "查询日期", True, gettext_lazy("report date"), "2026-10-01", ("报告日期",)),
    ),
    fields={
        "bureau_score": "score",
        "bureau_inquiries_6m": "inquiries_6m",
        "bureau_current_delinquencies": "delinquencies",
        "bureau_reported_on": "as_of",
        "borrower": "national_id",
    },
)
