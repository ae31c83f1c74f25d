"""Policy simulation: a version evaluated over the current book, beside the active one (§7).

Read-only. The book's borrowers are everyone with a loan that was booked and not rejected or
cancelled (pending, approved, active, closed, written off): the people the platform lends to,
including the ones it lost money on. Left out, and counted so the page can say why: borrowers
with no loan at all (never applied, or an application declined or still waiting) and those whose
only loans were rejected or cancelled. A borrower on the book without a risk profile (no bureau
or employment data) is evaluated like the others: the policy refers on the missing data.
Their profiles are read chunk by chunk in four set-based queries (borrowers with risk profiles,
loans, bucket moves, installments) and evaluated with the pure `risk.policy.evaluate`, without
a loan request, so only the limit is assessed.

"Bad" is the book's own record: a borrower is bad when any of their loans was ever 30 or more
days past due: the worst of the dpd recorded at each bucket move (`BucketChange.dpd`) and the
loan's current `dpd`. That is `platform_worst_dpd` ≥ 30, the same figure the scorecard reads.
With the default buckets a loan crossing 30 dpd is recorded on entering M2 at 31; one that
reached exactly 30 and was cured the next day is only caught while its current dpd says so.
The rate is in-sample (today's profile already contains the behaviour that made a borrower bad),
so it compares versions; it does not predict (`fit_scorecard` reports held-out figures).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, Loan, LoanStatus
from lending.money import ZERO, money_str, quantize_money
from lending.validation import check_not_future
from risk.models import CreditPolicy, PolicyStatus, RiskProfile
from risk.policy import GRADES, OUTCOMES, Policy, evaluate
from risk.policy import RiskProfile as ProfileData
from risk.reasons import fmt_money
from risk.selectors import BAD_DPD, profiles_in_bulk
from risk.services.policies import policy_parse

BOOK_STATUSES = (
    LoanStatus.PENDING,
    LoanStatus.APPROVED,
    LoanStatus.ACTIVE,
    LoanStatus.CLOSED,
    LoanStatus.WRITTEN_OFF,
)
CHUNK = 2000
_RATE = Decimal("0.0001")


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to 4 places (0.6250 = 62.5 %); None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_RATE, rounding=ROUND_HALF_UP)


def _rate_str(value: Decimal | None) -> str | None:
    return None if value is None else money_str(value)


# --------------------------------------------------------------------------- profiles in bulk


def _on_book():
    return Exists(Loan.objects.filter(borrower=OuterRef("pk"), status__in=BOOK_STATUSES))


def book_borrower_ids() -> list[int]:
    borrowers = Borrower.objects.filter(_on_book()).order_by("pk")
    return list(borrowers.values_list("pk", flat=True))


@dataclass(frozen=True)
class Coverage:
    """Who the simulation evaluates out of every borrower on record, and who it leaves out."""

    borrowers: int  # on record
    evaluated: int  # on the book
    no_loan: int  # left out: no loan at all
    only_refused: int  # left out: every loan rejected or cancelled
    without_profile: int  # evaluated, but no risk profile: the policy refers on missing data

    def as_dict(self) -> dict:
        return {
            "borrowers": self.borrowers,
            "evaluated": self.evaluated,
            "no_loan": self.no_loan,
            "only_rejected_or_cancelled": self.only_refused,
            "without_risk_profile": self.without_profile,
        }


def book_coverage(evaluated: int) -> Coverage:
    any_loan = Exists(Loan.objects.filter(borrower=OuterRef("pk")))
    has_profile = Exists(RiskProfile.objects.filter(borrower=OuterRef("pk")))
    off_book = Borrower.objects.exclude(_on_book())
    return Coverage(
        borrowers=Borrower.objects.count(),
        evaluated=evaluated,
        no_loan=off_book.exclude(any_loan).count(),
        only_refused=off_book.filter(any_loan).count(),
        without_profile=Borrower.objects.filter(_on_book()).exclude(has_profile).count(),
    )


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class GradeFigures:
    count: int
    share: Decimal | None  # of borrowers evaluated
    bad: int  # of them, ever 30+ dpd on the book
    bad_rate: Decimal | None


@dataclass(frozen=True)
class PolicyFigures:
    version: int
    name: str
    status: str
    evaluated: int
    outcomes: dict[str, int]  # approve / refer / decline
    outcome_rates: dict[str, Decimal | None]
    grades: dict[str, GradeFigures]  # A–E, best first
    total_limit: Decimal  # sum of the limits of approved borrowers

    @property
    def approval_rate(self) -> Decimal | None:
        return self.outcome_rates["approve"]

    def as_dict(self) -> dict:
        return {
            "version": self.version,
            "name": self.name,
            "status": self.status,
            "evaluated": self.evaluated,
            "outcomes": self.outcomes,
            "outcome_rates": {k: _rate_str(v) for k, v in self.outcome_rates.items()},
            "approval_rate": _rate_str(self.approval_rate),
            "total_limit": money_str(self.total_limit),
            "grades": {
                grade: {
                    "count": g.count,
                    "share": _rate_str(g.share),
                    "bad": g.bad,
                    "bad_rate": _rate_str(g.bad_rate),
                }
                for grade, g in self.grades.items()
            },
        }


@dataclass
class _Tally:
    record: CreditPolicy
    policy: Policy
    outcomes: Counter = field(default_factory=Counter)
    grades: Counter = field(default_factory=Counter)
    bad: Counter = field(default_factory=Counter)
    total_limit: Decimal = ZERO
    approved: set = field(default_factory=set)

    def add(self, borrower_id: int, profile: ProfileData, is_bad: bool) -> None:
        decision = evaluate(profile, self.policy)
        self.outcomes[decision.outcome] += 1
        self.grades[decision.grade] += 1
        self.bad[decision.grade] += int(is_bad)
        if decision.outcome == "approve":
            self.total_limit += decision.limit
            self.approved.add(borrower_id)

    def figures(self, evaluated: int) -> PolicyFigures:
        grades = list(GRADES) + sorted(set(self.grades) - set(GRADES))
        return PolicyFigures(
            version=self.record.version,
            name=self.record.name,
            status=self.record.status,
            evaluated=evaluated,
            outcomes={o: self.outcomes[o] for o in OUTCOMES},
            outcome_rates={o: rate(self.outcomes[o], evaluated) for o in OUTCOMES},
            grades={
                g: GradeFigures(
                    count=self.grades[g],
                    share=rate(self.grades[g], evaluated),
                    bad=self.bad[g],
                    bad_rate=rate(self.bad[g], self.grades[g]),
                )
                for g in grades
            },
            total_limit=quantize_money(self.total_limit),
        )


@dataclass(frozen=True)
class Simulation:
    as_of: date
    borrowers: int
    candidate: PolicyFigures
    active: PolicyFigures | None  # None when no version is active
    newly_approved: int  # approved by the candidate, not by the active version
    no_longer_approved: int  # approved by the active version, not by the candidate
    coverage: Coverage | None = None

    @property
    def compared(self) -> bool:
        """Two versions side by side: the simulated one is not the active one itself."""
        return self.active is not None and self.active.version != self.candidate.version

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "borrowers": self.borrowers,
            "coverage": self.coverage.as_dict() if self.coverage else None,
            # Words for people, in the request's language like every text of the API.
            "bad_definition": _("any loan ever %(days)s+ days past due") % {"days": BAD_DPD},
            "candidate": self.candidate.as_dict(),
            "active": self.active.as_dict() if self.active else None,
            "newly_approved": self.newly_approved,
            "no_longer_approved": self.no_longer_approved,
        }


def simulate_policy(*, version: int, as_of: date | None = None, chunk: int = CHUNK) -> Simulation:
    """Evaluate `version` and the active version over every borrower on the book."""
    # The book's history as of a day that has happened: a later one is the same book as today.
    as_of = check_not_future(as_of or timezone.localdate(), field="as_of")
    record = CreditPolicy.objects.filter(version=version).first()
    if record is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND,
            _("no credit policy version %(version)s") % {"version": version},
            field="version",
        )
    candidate = _Tally(record, policy_parse(record.definition))
    active_record = CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    active = (
        _Tally(active_record, policy_parse(active_record.definition)) if active_record else None
    )
    ids = book_borrower_ids()
    for start in range(0, len(ids), chunk):
        for borrower_id, profile in profiles_in_bulk(ids[start : start + chunk], as_of).items():
            is_bad = profile.platform_worst_dpd >= BAD_DPD
            candidate.add(borrower_id, profile, is_bad)
            if active is not None:
                active.add(borrower_id, profile, is_bad)
    return Simulation(
        as_of=as_of,
        borrowers=len(ids),
        candidate=candidate.figures(len(ids)),
        active=active.figures(len(ids)) if active else None,
        newly_approved=len(candidate.approved - active.approved) if active else 0,
        no_longer_approved=len(active.approved - candidate.approved) if active else 0,
        coverage=book_coverage(len(ids)),
    )


# --------------------------------------------------------------------------- side by side


def _pct(value: Decimal | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}%"


def _cells(figures: PolicyFigures) -> list[str]:
    cells = [str(figures.evaluated)]
    cells += [f"{n} ({_pct(figures.outcome_rates[o])})" for o, n in figures.outcomes.items()]
    cells.append(fmt_money(figures.total_limit))
    cells += [f"{g.count} ({_pct(g.share)})" for g in figures.grades.values()]
    cells += [f"{g.bad}/{g.count} ({_pct(g.bad_rate)})" for g in figures.grades.values()]
    return cells


def version_title(figures: PolicyFigures) -> str:
    """A column's title: the version's status and number ("active v1", "draft v2")."""
    titles = {
        PolicyStatus.DRAFT: _("draft v%(version)s"),
        PolicyStatus.CANDIDATE: _("candidate v%(version)s"),
        PolicyStatus.ACTIVE: _("active v%(version)s"),
        PolicyStatus.RETIRED: _("retired v%(version)s"),
    }
    return titles[figures.status] % {"version": figures.version}


def comparison(result: Simulation) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Column titles and (label, cells) rows, the active version first: what the command prints
    and the admin page shows. The active version simulated on its own is one column."""
    shown = [result.active, result.candidate] if result.compared else [result.candidate]
    titles = [version_title(f) for f in shown]
    grades = list(result.candidate.grades)
    labels = [
        _("borrowers evaluated"),
        _("approve"),
        _("refer"),
        _("decline"),
        _("total limit (approved)"),
        *(_("grade %s") % g for g in grades),
        *(_("bad rate, grade %s") % g for g in grades),
    ]
    columns = [_cells(f) for f in shown]
    return titles, [(label, [c[i] for c in columns]) for i, label in enumerate(labels)]
