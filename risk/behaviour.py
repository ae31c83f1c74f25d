"""Behavioural limit review: the policy's `behaviour` section and what it does to one limit.

Pure Python, no Django (DESIGN §3.2, §7). `parse_behaviour` validates the optional section of a
policy definition (`risk.policy.parse_policy` delegates to it); `review` decides, for one credit
limit on one business date, whether the nightly review freezes, cuts, restores it or proposes an
increase. The service feeds it rows it read in bulk and writes what it returns.

The rules:

- freeze: a loan of the borrower is ≥ `freeze_dpd` days past due (default 1) and the limit is
  active → frozen, under the review's hold.
- cut: a loan is ≥ `cut_dpd` (default 30; null switches cuts off) → the amount becomes
  `cut_to` × amount (default 0.5), rounded down to the policy's `rounding`; at most once per
  delinquency episode (the hold remembers it). A limit a person froze is left to them.
- Both are taken for current delinquency, so neither is an adverse-action notice; the reason
  names the loan and its dpd. (A freeze or cut for past behaviour is a person's decision, made
  with `adverse_action` and the reason the borrower is given.)
- restore: the borrower is cured (no loan past due) and has paid `restore_after_on_time` (K,
  default 3) installments on time that fell due after the cure → active again. A cut amount
  stays cut: the way back up is an increase proposal.
- increase: an active limit without a hold, no loan past due, and `increase_after_on_time` (X,
  default 6; null: off) on-time installments due after the last cure and after the last
  proposal → propose amount × (1 + `increase_by`) (default 0.2), rounded down, at most
  `increase_cap` (default and ceiling: the household cap). A risk analyst approves it.
- write-off: a borrower with a written-off loan is never restored nor proposed an increase by the
  review; the limit stays frozen (and cut) until a person decides. The review does not close it:
  closing for past behaviour is an adverse action, a person's to take with the reason given.

An installment is on time when it was settled in full on or before its due date, and its loan
was not written off (a write-off settles every installment on its date). One that has fallen due
(due date ≤ the business date, which has ended) and is unsettled is not on time.

The cure is the day the last installment that was not on time was settled, or its due date if
later (`cured_on`). Counting from the late installment's due date instead would let installments
paid on time on another loan while this one was still unpaid restore the limit on the very
night of the cure.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from lending.i18n import gettext_noop
from lending.money import to_multiple
from risk.reasons import Message, fmt_money

if TYPE_CHECKING:
    from risk.policy import _Parser

FREEZE = "behaviour_freeze"
CUT = "behaviour_cut"
RESTORE = "behaviour_restore"
PROPOSE = "propose_increase"
RELEASE = "release_hold"  # bookkeeping only: a person lifted the review's freeze

# The review's hold on a limit: "" none, "frozen" it froze the limit, "cut" it froze and cut it.
HOLD_NONE, HOLD_FROZEN, HOLD_CUT = "", "frozen", "cut"
ACTIVE, FROZEN = "active", "frozen"

BEHAVIOUR_KEYS = (  # the policy's behaviour section, in the editor's order too
    "freeze_dpd",
    "cut_dpd",
    "cut_to",
    "restore_after_on_time",
    "increase_after_on_time",
    "increase_by",
    "increase_cap",
)

HOUSEHOLD_CAP = Decimal("200000")  # CNY: internet consumer lending cap per household (default)


@dataclass(frozen=True, slots=True)
class BehaviourRules:
    freeze_dpd: int = 1
    cut_dpd: int | None = 30  # None: no cuts
    cut_to: Decimal = Decimal("0.5")  # share of the limit kept by a cut
    restore_after_on_time: int = 3
    increase_after_on_time: int | None = 6  # None: no proposals
    increase_by: Decimal = Decimal("0.2")
    increase_cap: Decimal = HOUSEHOLD_CAP


DEFAULT_RULES = BehaviourRules()


def parse_behaviour(parser: "_Parser", raw, *, household_cap: Decimal) -> BehaviourRules | None:
    """The section's rules (defaults for what it leaves out); problems go to `parser` with
    their path ("behaviour.cut_to"). None when the section is invalid."""
    if raw is None:
        return DEFAULT_RULES
    data = parser.obj(raw, "behaviour", "behaviour")
    if data is None:
        return None
    count = len(parser.issues)
    parser.unknown_keys(data, BEHAVIOUR_KEYS, "behaviour")
    values = _as_dict(DEFAULT_RULES)
    for key in BEHAVIOUR_KEYS:
        if key not in data:
            continue
        rule, before = f"behaviour.{key}", len(parser.issues)
        if key in ("cut_to", "increase_by", "increase_cap"):
            value = parser.decimal(data, key, rule)
        else:
            nullable = key in ("cut_dpd", "increase_after_on_time")
            minimum = 0 if key == "restore_after_on_time" else 1
            value = parser.integer(data, key, rule, minimum=minimum, nullable=nullable)
        if len(parser.issues) == before:  # a bad value keeps the default for the checks below
            values[key] = value
    rules = BehaviourRules(**values)
    if rules.cut_dpd is not None and rules.cut_dpd < rules.freeze_dpd:
        parser.issue(
            "behaviour.cut_dpd",
            gettext_noop(
                "cut_dpd %(cut_dpd)s is below freeze_dpd %(freeze_dpd)s: a limit is frozen "
                "before it is cut"
            ),
            cut_dpd=rules.cut_dpd,
            freeze_dpd=rules.freeze_dpd,
        )
    if not 0 <= rules.cut_to < 1:
        parser.issue(
            "behaviour.cut_to",
            gettext_noop(
                "must be at least 0 and below 1: the share of the limit a cut keeps (got %(value)s)"
            ),
            value=rules.cut_to,
        )
    if not 0 < rules.increase_by <= 1:
        parser.issue(
            "behaviour.increase_by",
            gettext_noop(
                "must be above 0 and at most 1 (an increase of up to 100%%; got %(value)s)"
            ),
            value=rules.increase_by,
        )
    if not 0 < rules.increase_cap <= household_cap:
        parser.issue(
            "behaviour.increase_cap",
            gettext_noop(
                "must be above 0 and at most the household cap of %(cap)s (got %(value)s)"
            ),
            cap=fmt_money(household_cap),
            value=rules.increase_cap,
        )
    return rules if len(parser.issues) == count else None


def _as_dict(rules: BehaviourRules) -> dict:
    return {key: getattr(rules, key) for key in BEHAVIOUR_KEYS}


def is_on_time(due_date: date, settled_on: date | None, *, written_off: bool) -> bool:
    return settled_on is not None and settled_on <= due_date and not written_off


# A fallen-due installment: (due date, settled on or None, on time).
Paid = tuple[date, date | None, bool]


def cured_on(installments: Iterable[Paid]) -> date | None:
    """The day the borrower was last cured: the latest day an installment that was not on time
    was settled, or its due date if that is later (a write-off settles ones not yet due) or it
    is unsettled (with nothing past due, only one due tonight can be). None if none was late."""
    return max(
        (max(due, settled or due) for due, settled, on_time in installments if not on_time),
        default=None,
    )


def on_time_streak(installments: Iterable[Paid], *, after: date | None = None) -> int:
    """On-time installments due after the last cure (and after `after`); in any order."""
    items = list(installments)
    floor = max((d for d in (cured_on(items), after) if d is not None), default=None)
    return sum(1 for due, _, on_time in items if on_time and (floor is None or due > floor))


@dataclass(frozen=True, slots=True)
class LimitState:
    amount: Decimal
    status: str  # "active" | "frozen" (closed limits are not reviewed)
    hold: str  # HOLD_NONE | HOLD_FROZEN | HOLD_CUT
    worst_dpd: int  # over the borrower's active loans
    worst_loan: str  # the reference of the loan with that dpd
    installments: tuple[Paid, ...]  # every one fallen due, on any loan of the borrower
    last_proposed_on: date | None = None
    open_proposal: bool = False
    written_off: bool = False  # the borrower has a written-off loan


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # FREEZE | CUT | RESTORE | PROPOSE | RELEASE
    amount: Decimal  # the limit after a freeze, cut or restore; the proposed amount
    status: str
    hold: str
    why: Message | None  # the reason, as stored with the change (None: a release, no change)
    on_time: int = 0  # the streak a restore or proposal rests on

    @property
    def reason(self) -> str:
        """The reason in English (stored beside its key for logs and old readers)."""
        return self.why.text if self.why else ""


def review(state: LimitState, rules: BehaviourRules, rounding: Decimal) -> list[Action]:
    """Everything the nightly review does to one limit on one date, in order: at most two
    actions (a restore or a release may be followed by a proposal). Reviewing the state they
    leave finds nothing more to do, so re-running a date changes nothing."""
    actions: list[Action] = []
    while (action := _next_action(state, rules, rounding)) is not None:
        actions.append(action)
        state = replace(
            state,
            amount=state.amount if action.kind == PROPOSE else action.amount,
            status=action.status,
            hold=action.hold,
            open_proposal=state.open_proposal or action.kind == PROPOSE,
        )
    return actions


def _counted(key: str, n: int) -> str:
    """The key of a message about `n` days or installments: "<key>.one" for exactly one."""
    return f"{key}.one" if n == 1 else key


def _next_action(state: LimitState, rules: BehaviourRules, rounding: Decimal) -> Action | None:

    dpd, loan = state.worst_dpd, state.worst_loan
    if dpd >= rules.freeze_dpd:
        if state.status == FROZEN and state.hold == HOLD_NONE:
            return None  # a person froze it; the review leaves it to them
        if rules.cut_dpd is not None and dpd >= rules.cut_dpd and state.hold != HOLD_CUT:
            amount = to_multiple(state.amount * rules.cut_to, rounding)
            why = Message.of(
                _counted("review.cut", dpd),
                loan=loan,
                dpd=dpd,
                cut_dpd=rules.cut_dpd,
                cut_to=rules.cut_to,
                from_amount=state.amount,
                to_amount=amount,
            )
            return Action(CUT, amount, FROZEN, HOLD_CUT, why)
        if state.status == ACTIVE:
            why = Message.of(
                _counted("review.freeze", dpd), loan=loan, dpd=dpd, freeze_dpd=rules.freeze_dpd
            )
            return Action(FREEZE, state.amount, FROZEN, state.hold or HOLD_FROZEN, why)
        return None
    if dpd > 0:
        return None  # late below the freeze threshold: not cured, nothing to do yet
    if state.hold != HOLD_NONE:
        if state.status != FROZEN:
            return Action(RELEASE, state.amount, state.status, HOLD_NONE, None)
        if state.written_off:
            return None  # a loss on the book: a person decides whether the limit comes back
        streak = on_time_streak(state.installments)
        if streak < rules.restore_after_on_time:
            return None
        cured = cured_on(state.installments)
        after = {"count": streak, "restore_after": rules.restore_after_on_time}
        if cured:
            why = Message.of(
                _counted("review.restore.since", streak), cured=cured.isoformat(), **after
            )
        else:
            why = Message.of(_counted("review.restore", streak), **after)
        return Action(RESTORE, state.amount, ACTIVE, HOLD_NONE, why, on_time=streak)
    if state.status != ACTIVE or state.open_proposal or rules.increase_after_on_time is None:
        return None
    if state.written_off:
        return None  # not for a borrower the book lost money on; an analyst may still propose
    streak = on_time_streak(state.installments, after=state.last_proposed_on)
    if streak < rules.increase_after_on_time:
        return None
    raised = to_multiple(state.amount * (1 + rules.increase_by), rounding)
    proposed = min(raised, rules.increase_cap)
    if proposed <= state.amount:
        return None  # at the cap already
    why = Message.of(
        _counted("review.propose", streak),
        count=streak,
        propose_after=rules.increase_after_on_time,
        from_amount=state.amount,
        increase_by=rules.increase_by,
        to_amount=proposed,
    )
    return Action(PROPOSE, proposed, ACTIVE, HOLD_NONE, why, on_time=streak)
