"""Reads for concessions: recoveries after write-off, credited to the collector and queue of
the case that ended in the write-off (the work that came before the money)."""

from datetime import date

from django.db.models import Exists, OuterRef, Subquery, Sum

from debt_collection.models import Case, CloseReason, Recovery


def last_written_off_cases():
    """Each loan's last case closed as written off (no later one of the loan): the case a
    recovery on the loan is credited to."""
    written_off = Case.objects.filter(close_reason=CloseReason.WRITTEN_OFF)
    later = written_off.filter(loan=OuterRef("loan"), pk__gt=OuterRef("pk"))
    return written_off.exclude(Exists(later))


def written_off_case(field: str) -> Subquery:
    """`field` of the loan's last case closed as written off (annotation on Recovery)."""
    return Subquery(last_written_off_cases().filter(loan=OuterRef("loan")).values(field)[:1])


def credited_to(recoveries, **case_fields):
    """The recoveries credited to a collector or queue (collector_id=…, queue_id=…): the loans
    of the matching cases first, then their recoveries by the loan index, rather than the case
    subquery worked out for every recovery (10 s at a million loans)."""
    cases = last_written_off_cases().filter(**case_fields)
    return recoveries.filter(loan__in=cases.values("loan"))


def recoveries_with_case():
    return Recovery.objects.annotate(
        case_id=written_off_case("pk"),
        collector_id=written_off_case("collector"),
        queue_id=written_off_case("queue"),
    )


def recoveries_by(
    group: str, *, start: date | None = None, end: date | None = None
) -> dict[int | None, object]:
    """Recovered amount per collector (`group="collector"`) or queue (`"queue"`), valued from
    `start` to `end` (both optional); None: no case (a loan written off without collections)."""
    if group not in ("collector", "queue"):
        raise ValueError("group by collector or queue")
    rows = recoveries_with_case()
    if start:
        rows = rows.filter(value_date__gte=start)
    if end:
        rows = rows.filter(value_date__lte=end)
    key = f"{group}_id"
    return dict(rows.values(key).annotate(total=Sum("amount")).values_list(key, "total"))
