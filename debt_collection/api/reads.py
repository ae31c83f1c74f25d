"""The reads these endpoints share, all narrowed by debt_collection.access: a case the user
may not see is not found (404), never forbidden (403), whatever the URL."""

from django.db.models import Prefetch
from django.http import Http404

from debt_collection.access import CollectionsPerm, sees_all_cases, visible_cases
from debt_collection.concession_selectors import recoveries_with_case
from debt_collection.models import Case, CaseStatus, ContactHold, Queue
from lending.access import may
from lending.models import Loan

CASES = Case.objects.select_related("loan", "borrower", "queue", "collector")


def cases_for(user):
    return visible_cases(CASES, user)


def case_or_404(user, case_id) -> Case:
    case = cases_for(user).filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


def borrower_loans(case: Case, user) -> tuple[list[Loan], dict[int, int]]:
    """The borrower's loans, and {loan id: open case id} for the open cases the user sees."""
    loans = list(Loan.objects.filter(borrower_id=case.borrower_id).order_by("id"))
    open_cases = dict(
        visible_cases(Case.objects.all(), user)
        .filter(borrower_id=case.borrower_id, status=CaseStatus.OPEN)
        .values_list("loan_id", "pk")
    )
    return loans, open_cases


def holds_for(user):
    """Holds on the borrowers of the cases the user may see (all of them for a manager)."""
    holds = ContactHold.objects.select_related("placed_by", "lifted_by")
    if sees_all_cases(user):
        return holds
    seen = visible_cases(Case.objects.all(), user)  # a collector: the borrowers of their cases
    return holds.filter(borrower_id__in=seen.values("borrower_id"))


QUEUES = Queue.objects.prefetch_related(Prefetch("members"))


def proposals_for(model, user):
    """Waiver, settlement or write-off proposals on the cases the user may see (a collector:
    their own cases'); another collector's is not found."""
    rows = model.objects.select_related("case__loan", "proposed_by", "decided_by")
    if sees_all_cases(user):
        return rows
    return rows.filter(case__in=visible_cases(Case.objects.all(), user).values("pk"))


def proposal_or_404(model, user, pk):
    proposal = proposals_for(model, user).filter(pk=pk).first()
    if proposal is None:
        raise Http404
    return proposal


RECOVERIES = recoveries_with_case().select_related("loan", "posted_by")


def recoveries_for(user):
    """Recoveries credited to the cases the user may see (a collector: their own cases')."""
    rows = RECOVERIES
    if sees_all_cases(user):
        return rows
    if not may(user, CollectionsPerm.VIEW_CASE):
        return rows.none()
    return rows.filter(collector_id=user.pk)
