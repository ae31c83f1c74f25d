"""The risk side of the demo (`manage.py load_risk_demo`), run after `manage.py load_demo`.

The demo book has borrowers with risk profiles and loans, but no applications, limits or
proposals. This fills them the way the back office itself would, through the risk services:

- the risk analyst gives every borrower with an active loan a first limit (the policy's limit
  for the profile, never below what they already owe: the book predates limits);
- a second credit officer submits loan applications for a mix of borrowers chosen by what the
  active policy makes of them today (approve; refer for unverified income, missing bureau data
  or a grade D; decline for the blacklist, inquiries, current delinquency, debt, grade E);
- the demo's credit officer reviews some referrals (four eyes), leaving the rest in the queue;
- the nightly limit review runs for the last closed business date: overdue borrowers' limits
  are frozen or cut, good payers are proposed increases, and the analyst decides a couple;
- a stricter candidate policy version waits to be simulated against the active one.

It runs once: if any loan application exists, nothing changes. Choices come from one seed, so
the same book and seed give the same applications.
"""

import copy
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from lending import roles
from lending.close_of_business.runner import last_closed_date
from lending.demo import (
    CASH,
    DEFAULT_SEED,
    DEMO_LOGINS,
    DEMO_PRODUCT_CODES,
    PHONE,
    PHONE_PRICES,
    PURPOSES,
    SALARY,
    TERMS,
    DemoLogin,
    demo_login,
)
from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, Loan, LoanProduct, LoanStatus
from lending.models.borrowers import KycStatus
from lending.money import ZERO, quantize_money, to_multiple
from risk import reasons as rc
from risk.models import (
    ApplicationStatus,
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    Decision,
    LimitIncreaseProposal,
    LimitStatus,
    LoanApplication,
    PolicyStatus,
    ProposalStatus,
)
from risk.policy import HOUSEHOLD_CAP, evaluate
from risk.reasons import fmt_money, fmt_ratio
from risk.selectors import active_policy, exposure, profiles_in_bulk
from risk.services.behaviour import limit_review
from risk.services.limits import (
    credit_limit_change,
    limit_increase_approve,
    limit_increase_propose,
    limit_increase_reject,
)
from risk.services.policies import policy_create
from risk.services.underwriting import application_review, application_submit
from risk.simulation import CHUNK

SECOND_OFFICER = DemoLogin("officer2", roles.CREDIT_OFFICER)
# (what the active policy makes of the borrower today, its first reason) → applications.
APPLICATION_MIX = {
    ("approve", None): 24,
    ("refer", rc.INCOME_NOT_VERIFIED): 8,
    ("refer", rc.MISSING_DATA): 5,
    ("refer", rc.LOW_GRADE): 3,
    ("decline", rc.BLACKLISTED): 3,
    ("decline", rc.TOO_MANY_INQUIRIES): 4,
    ("decline", rc.CURRENTLY_OVERDUE): 4,
    ("decline", rc.NO_REPAYMENT_CAPACITY): 4,
    ("decline", rc.LOW_GRADE): 5,
}
QUEUE_LEFT = 10  # referrals left waiting for the demo's officer ...
MIN_REVIEWS = 4  # ... but at least this many reviewed (half the referrals, on a small book)
MIN_ROOM = Decimal("1500")  # an approval candidate has this much of its limit free, at least
PRICE_BY_GRADE = {"A": 0.0, "B": 0.25, "C": 0.5, "D": 0.75, "E": 1.0}  # within the rate range
RATE_STEP = Decimal("0.005")
REVIEW_NOTES = {  # first reason code → (approve note, decline note)
    rc.INCOME_NOT_VERIFIED: (
        "6 months of bank statements seen: salary credits match the declared income",
        "no proof of income received within 7 days of asking",
    ),
    rc.MISSING_DATA: (
        "missing figures collected from the borrower and checked against statements",
        "the borrower did not supply the missing figures within 7 days",
    ),
    rc.LOW_GRADE: (
        "grade D, but a small amount well within the limit and a stable job",
        "grade D and nothing in the file to outweigh it",
    ),
    rc.DTI_EXCEEDED: (
        "loan at the other lender repaid last week (statement seen)",
        "payments would pass the debt-to-income ceiling; suggested a smaller amount",
    ),
}
OTHER_NOTES = ("file complete after a call with the borrower", "file still incomplete")
PROPOSAL_NOTES = (
    "on-time record checked; income unchanged since the application",
    "income not re-verified since the first loan: ask again after the next statement",
)
STRICTER_MAX_INQUIRIES = 4
MANUAL_INCREASE = Decimal("0.2")  # what the analyst proposes when the review proposed nothing


@dataclass
class RiskDemoSummary:
    already_loaded: bool
    applications: dict[str, int]  # by status
    reviewed: dict[str, int]  # by status, those a second officer decided
    decisions: dict[str, int]  # by outcome
    declined_for: dict[str, int]  # first reason code of applications declined on submission
    limits: dict[str, int]  # by status
    holds: dict[str, int]  # the nightly review's holds
    changes: dict[str, int]  # limit history by kind
    proposals: dict[str, int]  # by status
    candidates: list[tuple[int, str]]  # policy versions to simulate
    review_date: date | None = None
    new_login: DemoLogin | None = None
    seconds: float = 0.0

    def lines(self) -> list[str]:
        apps, reviewed = self.applications, self.reviewed
        out = [
            f"Loan applications: {sum(apps.values())}",
            f"  approved {apps.get(ApplicationStatus.APPROVED, 0)}, "
            f"declined {apps.get(ApplicationStatus.DECLINED, 0)}, "
            f"awaiting review {apps.get(ApplicationStatus.REFERRED, 0)} (the queue)",
            f"  reviewed by a second officer: {reviewed.get(ApplicationStatus.APPROVED, 0)} "
            f"approved, {reviewed.get(ApplicationStatus.DECLINED, 0)} declined",
            "  declined on submission for: "
            + (", ".join(f"{code} {n}" for code, n in sorted(self.declined_for.items())) or "-"),
            "Decisions: " + ", ".join(f"{o} {self.decisions.get(o, 0)}" for o in _OUTCOMES),
            f"Credit limits: {sum(self.limits.values())} ("
            + ", ".join(f"{s.label.lower()} {self.limits.get(s, 0)}" for s in LimitStatus)
            + f"; held by the nightly review: frozen {self.holds.get('frozen', 0)}, "
            f"cut {self.holds.get('cut', 0)})",
            "  history: " + ", ".join(f"{k} {n}" for k, n in sorted(self.changes.items())),
            f"Limit increase proposals: {sum(self.proposals.values())} ("
            + ", ".join(f"{s.label.lower()} {self.proposals.get(s, 0)}" for s in ProposalStatus)
            + ")",
        ]
        if self.review_date:
            out.append(f"Nightly limit review run for {self.review_date}")
        out += [f"Candidate policy to simulate: v{v} {name}" for v, name in self.candidates]
        if self.new_login:
            login = self.new_login
            out.append(
                f"Second credit officer (submitted the applications): {login.username} / "
                f"{login.password}; the demo's officer reviews them"
            )
        return out


_OUTCOMES = ("approve", "refer", "decline")


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def _counts(queryset, field: str) -> dict[str, int]:
    return dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())


def _summarize(*, already_loaded: bool) -> RiskDemoSummary:
    declined = LoanApplication.objects.filter(
        status=ApplicationStatus.DECLINED, reviewed_at__isnull=True
    ).values_list("decision__reasons", flat=True)
    return RiskDemoSummary(
        already_loaded=already_loaded,
        applications=_counts(LoanApplication.objects, "status"),
        reviewed=_counts(LoanApplication.objects.filter(reviewed_at__isnull=False), "status"),
        decisions=_counts(Decision.objects, "outcome"),
        declined_for=dict(Counter(reasons[0]["code"] for reasons in declined if reasons)),
        limits=_counts(CreditLimit.objects, "status"),
        holds=_counts(CreditLimit.objects.exclude(review_hold=""), "review_hold"),
        changes=_counts(CreditLimitChange.objects, "kind"),
        proposals=_counts(LimitIncreaseProposal.objects, "status"),
        candidates=list(
            CreditPolicy.objects.filter(status=PolicyStatus.CANDIDATE)
            .order_by("version")
            .values_list("version", "name")
        ),
    )


class _Loader:
    def __init__(self, *, seed: int, today: date):
        self.rng = random.Random(f"{seed}:risk-demo")
        self.today = today
        self.record, self.policy = active_policy()
        by_role = {login.group: login for login in DEMO_LOGINS}
        self.officer, _token = demo_login(by_role[roles.CREDIT_OFFICER])
        self.analyst, _token = demo_login(by_role[roles.RISK_ANALYST])
        self.submitter, created = demo_login(SECOND_OFFICER)
        self.new_login = SECOND_OFFICER if created else None
        self.products = {p.code: p for p in LoanProduct.objects.filter(code__in=DEMO_PRODUCT_CODES)}
        self.profiles = {}
        ids = list(Borrower.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), CHUNK):
            self.profiles.update(profiles_in_bulk(ids[start : start + CHUNK], today))
        self.decisions = {pk: evaluate(p, self.policy) for pk, p in self.profiles.items()}

    # -- limits for the book that predates them
    def first_limits(self) -> int:
        """Borrowers with an active loan and no limit get one from the active policy, at least
        what they owe: the limit is the most they may owe, and they already do."""
        ids = (
            Loan.objects.filter(status=LoanStatus.ACTIVE, borrower__credit_limit__isnull=True)
            .order_by("borrower_id")
            .values_list("borrower_id", flat=True)
            .distinct()
        )
        borrowers = Borrower.objects.in_bulk(list(ids))
        version = self.record.version
        for pk, borrower in borrowers.items():
            decision, owed = self.decisions[pk], exposure(pk)
            floor = to_multiple(owed, self.policy.rounding, up=True)
            if decision.limit >= floor and decision.limit > 0:
                amount = decision.limit
                reason = f"first limit for a borrower on the book: grade {decision.grade} under "
                reason += f"policy version {version}"
            else:
                amount = floor
                reason = (
                    f"first limit for a borrower on the book: the {fmt_money(owed)} already owed "
                    f"(policy version {version}: {decision.outcome}, grade {decision.grade}, "
                    f"limit {fmt_money(decision.limit)})"
                )
            credit_limit_change(
                borrower=borrower,
                kind="set",
                amount=amount,
                status=LimitStatus.ACTIVE,
                reason=reason,
                policy=self.record,
                acting_user=self.analyst,
            )
        return len(borrowers)

    # -- applications
    def applicants(self) -> list[int]:
        """Borrowers for each kind of application, KYC-verified and with no loan in the
        pipeline already; approvals only where the limit leaves room for a loan."""
        busy = set(
            Loan.objects.filter(status__in=(LoanStatus.PENDING, LoanStatus.APPROVED)).values_list(
                "borrower_id", flat=True
            )
        )
        verified = set(
            Borrower.objects.filter(kyc_status=KycStatus.VERIFIED).values_list("pk", flat=True)
        )
        pools: dict[tuple, list[int]] = {}
        for pk in sorted(verified - busy):
            decision = self.decisions[pk]
            key = (decision.outcome, decision.reasons[0].code if decision.reasons else None)
            pools.setdefault(key, []).append(pk)
        chosen = []
        for key, wanted in APPLICATION_MIX.items():
            pool = pools.get(key, [])
            self.rng.shuffle(pool)
            if key[0] == "approve":
                pool = (pk for pk in pool if self.room(pk) >= MIN_ROOM)
            chosen += itertools.islice(pool, wanted)
        self.rng.shuffle(chosen)  # the queue is not grouped by kind
        return chosen

    def room(self, pk: int, decided: Decimal | None = None) -> Decimal:
        """What a new loan may still take: the limit (or the one a first approval would set
        from the decision) less what the borrower owes; nothing while the limit is frozen."""
        limit = CreditLimit.objects.filter(borrower_id=pk).values_list("amount", "status").first()
        if limit is not None and limit[1] != LimitStatus.ACTIVE:
            return ZERO
        available = limit[0] if limit else self.decisions[pk].limit if decided is None else decided
        return available - exposure(pk)

    def submit(self, pk: int) -> LoanApplication:
        decision = self.decisions[pk]
        code = self.rng.choices((PHONE, CASH, SALARY), (50, 35, 15))[0]
        income = self.profiles[pk].monthly_income or Decimal("5000")
        if code == PHONE:
            amount, term = Decimal(self.rng.choice(PHONE_PRICES)), self.rng.choice(TERMS[PHONE])
        elif code == CASH:
            amount = max(Decimal(1000), income * Decimal(self.rng.uniform(0.5, 2)))
            amount, term = to_multiple(amount, Decimal(1000)), self.rng.choice((6, 9, 12))
        else:
            amount = min(Decimal(10000), max(Decimal(500), income * Decimal("0.3")))
            amount, term = to_multiple(amount, Decimal(100)), 1
        if decision.outcome == "approve":
            amount = min(amount, to_multiple(self.room(pk), Decimal(100)))
        product = self.products[code]
        steps = int((product.max_rate - product.min_rate) / RATE_STEP)
        rate = product.min_rate + RATE_STEP * round(PRICE_BY_GRADE[decision.grade] * steps)
        return application_submit(
            borrower_id=pk,
            product=product,
            amount=quantize_money(amount),
            term_months=term,
            annual_rate=rate,
            purpose=self.rng.choice(PURPOSES[code]),
            acting_user=self.submitter,
            as_of=self.today,
        )

    def review(self, referred: list[LoanApplication]) -> None:
        """Some referrals decided by the demo's officer, who did not submit them: two approvals
        (where the limit has room) for each decline; the rest stay in the queue."""
        count = max(len(referred) - QUEUE_LEFT, min(MIN_REVIEWS, len(referred) // 2))
        declines = max(1, count // 3) if count > 1 else 0
        order = self.rng.sample(referred, len(referred))
        fits = [a for a in order if self.room(a.borrower_id, a.decision.limit) >= a.amount]
        approve = fits[: count - declines]
        decline = [a for a in order if a not in approve][: count - len(approve)]
        for application in sorted(approve + decline, key=lambda a: a.pk):
            reasons = application.decision.reasons
            notes = REVIEW_NOTES.get(reasons[0]["code"] if reasons else "", OTHER_NOTES)
            ok = application in approve
            application_review(
                application_id=application.pk,
                approve=ok,
                note=notes[0] if ok else notes[1],
                acting_user=self.officer,
            )

    # -- the nightly review and its proposals
    def proposals(self) -> None:
        """The analyst approves one of the review's proposals and rejects another, leaving the
        rest waiting; if the review proposed none, the analyst proposes two for good payers."""
        waiting = list(
            LimitIncreaseProposal.objects.filter(
                status=ProposalStatus.PROPOSED, proposed_by__isnull=True
            ).order_by("pk")
        )
        if len(waiting) >= 3:
            first, second = self.rng.sample(waiting, 2)
            limit_increase_approve(
                proposal_id=first.pk, note=PROPOSAL_NOTES[0], acting_user=self.analyst
            )
            limit_increase_reject(
                proposal_id=second.pk, note=PROPOSAL_NOTES[1], acting_user=self.analyst
            )
            return
        if waiting:
            return
        limits = CreditLimit.objects.filter(
            status=LimitStatus.ACTIVE, review_hold="", amount__gt=ZERO
        ).select_related("borrower")
        history = {limit: self.profiles[limit.borrower_id] for limit in limits}
        good = sorted(
            (
                limit
                for limit, p in history.items()
                if p.platform_loans_repaid and not p.platform_worst_dpd
            ),
            key=lambda limit: (-history[limit].platform_loans_repaid, limit.pk),
        )
        for limit in good[:2]:
            amount = limit.amount * (1 + MANUAL_INCREASE)
            amount = min(to_multiple(amount, self.policy.rounding), HOUSEHOLD_CAP)
            if amount > limit.amount:
                repaid = history[limit].platform_loans_repaid
                raise_by = fmt_ratio(MANUAL_INCREASE)
                limit_increase_propose(
                    borrower=limit.borrower,
                    amount=amount,
                    reason=f"{repaid} loan(s) repaid with us, never late: +{raise_by}",
                    acting_user=self.analyst,
                )

    def candidate_policy(self) -> None:
        """A stricter version to simulate beside the active one: fewer inquiries allowed, and
        grade D (and so E) declined instead of referred."""
        definition = copy.deepcopy(self.record.definition)
        hard = definition["hard_rules"]
        if hard.get("max_inquiries_6m") is not None:
            hard["max_inquiries_6m"] = min(hard["max_inquiries_6m"], STRICTER_MAX_INQUIRIES)
        outcomes = {
            o: [g for g in grades if g not in "DE"] for o, grades in definition["outcomes"].items()
        }
        outcomes["decline"] = [*outcomes.get("decline", []), "D", "E"]
        definition["outcomes"] = outcomes
        policy_create(
            name=f"Stricter: at most {STRICTER_MAX_INQUIRIES} inquiries, grade D declined",
            definition=definition,
            status=PolicyStatus.CANDIDATE,
            notes=f"demo candidate: simulate it beside version {self.record.version}",
            acting_user=self.analyst,
        )


def load_risk_demo(
    *, seed: int = DEFAULT_SEED, stdout=None, today: date | None = None
) -> RiskDemoSummary:
    """Fill the risk side of the demo book once; a summary of what is there either way."""
    started = time.perf_counter()
    today = today or timezone.localdate()
    with transaction.atomic():
        # Locked: two loads at once would both find no application and both add them.
        if not list(LoanProduct.objects.select_for_update().filter(code__in=DEMO_PRODUCT_CODES)):
            raise LendingError(
                LendingErrorCode.NOT_FOUND,
                _("the demo book is not loaded: run manage.py load_demo first"),
                field="products",
            )
        if LoanApplication.objects.exists():
            _say(
                stdout,
                "The risk demo is already loaded (loan applications exist): nothing changed.",
            )
            summary = _summarize(already_loaded=True)
            for line in summary.lines():
                _say(stdout, line)
            return summary
        loader = _Loader(seed=seed, today=today)
        _say(stdout, f"First limits for borrowers on the book: {loader.first_limits()}")
        submitted = [loader.submit(pk) for pk in loader.applicants()]
        referred = [a for a in submitted if a.status == ApplicationStatus.REFERRED]
        loader.review(referred)
        review_date = last_closed_date()
        if review_date is not None:
            counts = limit_review(business_date=review_date)
            _say(
                stdout, "Nightly limit review: " + ", ".join(f"{k} {n}" for k, n in counts.items())
            )
        loader.proposals()
        loader.candidate_policy()
        summary = _summarize(already_loaded=False)
    summary.review_date, summary.new_login = review_date, loader.new_login
    summary.seconds = time.perf_counter() - started
    for line in summary.lines():
        _say(stdout, line)
    _say(stdout, f"Loaded the risk demo in {summary.seconds:.1f} s (seed {seed}).")
    return summary
