"""Fit a scorecard on the platform's own history and keep it as a *candidate* policy version.

The candidate is the active version with the fitted scorecard and grade cut-offs in place of
its own; hard rules, limits, outcomes and everything else are copied unchanged. It is never
activated here: a risk analyst simulates it (`manage.py simulate_policy`) and activates it
through the policy admin when satisfied.
"""

import copy
from dataclasses import dataclass, replace
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lending.errors import LendingError, LendingErrorCode, translated
from lending.services.audit import audit_log
from lending.validation import check_not_future, check_seed
from risk.models import CreditPolicy, PolicyStatus
from risk.scorecard import BASE_ODDS, BASE_SCORE, PDO, FitResult, ScorecardError, fit_scorecard
from risk.selectors import BAD_DPD, OUTCOME_WINDOW_DAYS, active_policy, scorecard_history
from risk.services.policies import policy_create


@dataclass(frozen=True)
class ScorecardFit:
    policy: CreditPolicy  # the candidate version written
    based_on: CreditPolicy  # the active version it copies
    result: FitResult
    as_of: date
    seed: int
    test_size: float
    first_disbursed: date
    last_disbursed: date

    def as_dict(self) -> dict:
        r = self.result
        return {
            "policy_version": self.policy.version,
            "policy_status": self.policy.status,
            "based_on_version": self.based_on.version,
            "as_of": self.as_of.isoformat(),
            "seed": self.seed,
            "test_size": self.test_size,
            "train_rows": r.train_rows,
            "test_rows": r.test_rows,
            "train_bads": r.train_bads,
            "test_bads": r.test_bads,
            "auc": round(r.auc, 4),
            "ks": round(r.ks, 4),
            "auc_train": round(r.auc_train, 4),
            "ks_train": round(r.ks_train, 4),
            "grades_monotone": r.grades_monotone,
            "grades_monotone_overall": r.grades_monotone_overall,
            "calibration": [row.as_dict() for row in r.calibration],
            "calibration_overall": [row.as_dict() for row in r.calibration_all],
            "characteristics": [ch.attribute for ch in r.characteristics],
            "dropped": [{"attribute": a, "reason": why} for a, why in r.dropped],
        }


def _notes(fit: ScorecardFit) -> str:
    """What the candidate's `notes` say (everything but `fit.policy` is read)."""
    r = fit.result
    calibration = ", ".join(f"{row.grade} {row.bads}/{row.rows}" for row in r.calibration)
    lines = [
        f"Fitted by fit_scorecard on {r.train_rows + r.test_rows} loans disbursed "
        f"{fit.first_disbursed} to {fit.last_disbursed} (as of {fit.as_of}); bad = ever "
        f"{BAD_DPD}+ days past due within {OUTCOME_WINDOW_DAYS} days of disbursement.",
        f"Held-out ({r.test_rows} loans, {r.test_bads} bad): AUC {r.auc:.3f}, KS {r.ks:.3f}; "
        f"training ({r.train_rows} loans, {r.train_bads} bad): AUC {r.auc_train:.3f}, "
        f"KS {r.ks_train:.3f}. Split by borrower, seed {fit.seed}, test size {fit.test_size}.",
        f"Points: {BASE_SCORE} at odds {BASE_ODDS}:1 good to bad, {PDO} points double the "
        "odds. Grade cut-offs from training score quantiles.",
        f"Held-out bad loans by grade: {calibration}"
        + ("" if r.grades_monotone else " (NOT monotone: review before use)"),
        f"Copied from version {fit.based_on.version} except the scorecard and grades.",
    ]
    if r.dropped:
        lines.append("Not scored: " + "; ".join(f"{a} ({why})" for a, why in r.dropped) + ".")
    return "\n".join(lines)


@transaction.atomic
def scorecard_fit(
    *,
    acting_user,
    as_of: date | None = None,
    seed: int = 0,
    test_size: float = 0.3,
) -> ScorecardFit:
    """Fit on every loan with a full 6-month outcome as of `as_of` (default today) and write
    the candidate version. Too little or one-sided history raises LendingError (field
    "history") and writes nothing."""
    check_seed(seed, field="seed")
    if not 0 < test_size < 1:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("must be between 0 and 1, the share of borrowers held out (got %(value)s)")
            % {"value": test_size},
            field="test_size",
        )
    # Outcomes are read as of a day that has happened: a future day would count installments
    # not yet due as unpaid, and good loans as bad.
    as_of = check_not_future(as_of or timezone.localdate(), field="as_of")
    based_on, _policy = active_policy()
    history = scorecard_history(as_of=as_of)
    try:
        result = fit_scorecard(
            [row.features for row in history],
            [int(row.bad) for row in history],
            [row.borrower_id for row in history],
            test_size=test_size,
            seed=seed,
        )
    except ScorecardError as exc:
        raise LendingError(LendingErrorCode.INVALID, translated(exc), field="history") from None
    definition = copy.deepcopy(based_on.definition)
    definition["scorecard"] = result.scorecard_definition()
    definition["grades"] = result.grades_definition()
    disbursed = [row.disbursed for row in history]
    fit = ScorecardFit(
        policy=CreditPolicy(),  # unsaved stand-in until the version is written below
        based_on=based_on,
        result=result,
        as_of=as_of,
        seed=seed,
        test_size=test_size,
        first_disbursed=min(disbursed),
        last_disbursed=max(disbursed),
    )
    policy = policy_create(
        name=f"Fitted scorecard {as_of} (from v{based_on.version})",
        definition=definition,
        acting_user=acting_user,
        status=PolicyStatus.CANDIDATE,
        notes=_notes(fit),
    )
    fit = replace(fit, policy=policy)
    audit_log(
        actor=acting_user,
        action="policy.scorecard_fit",
        obj=policy,
        summary=f"v{policy.version}: held-out AUC {result.auc:.3f}, KS {result.ks:.3f}",
        data=fit.as_dict(),
    )
    return fit
