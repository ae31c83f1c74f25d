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
from risk.reason_texts import message_text
from risk.reasons import LIST_SEPARATOR
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
            # The English beside its key and figures, as a decision's reasons are stored.
            "dropped": [
                {"attribute": a, "reason": why.text, "message": why.key, "params": why.params}
                for a, why in r.dropped
            ],
        }


def not_scored(result: FitResult) -> str:
    """ "age (information value 0.009 < 0.02); …": the attributes left out and why, the reasons
    in the active language."""
    return _(LIST_SEPARATOR).join(
        _("%(attribute)s (%(reason)s)")
        % {"attribute": a, "reason": message_text(why.key, why.params, why.text)}
        for a, why in result.dropped
    )


def _notes(fit: ScorecardFit) -> str:
    """What the candidate's `notes` say (everything but `fit.policy` is read). Notes are text
    the analysts edit, so they are written in the language of the work that fits (a command:
    LANGUAGE_CODE), like an officer's note; the audit event keeps the reasons' keys."""
    r = fit.result
    calibration = ", ".join(f"{row.grade} {row.bads}/{row.rows}" for row in r.calibration)
    figures = {
        "loans": r.train_rows + r.test_rows,
        "first": fit.first_disbursed,
        "last": fit.last_disbursed,
        "as_of": fit.as_of,
        "bad_dpd": BAD_DPD,
        "window": OUTCOME_WINDOW_DAYS,
        "test_rows": r.test_rows,
        "test_bads": r.test_bads,
        "auc": f"{r.auc:.3f}",
        "ks": f"{r.ks:.3f}",
        "train_rows": r.train_rows,
        "train_bads": r.train_bads,
        "auc_train": f"{r.auc_train:.3f}",
        "ks_train": f"{r.ks_train:.3f}",
        "seed": fit.seed,
        "test_size": fit.test_size,
        "base_score": BASE_SCORE,
        "base_odds": BASE_ODDS,
        "pdo": PDO,
        "calibration": calibration,
        "version": fit.based_on.version,
    }
    lines = [
        _(
            "Fitted by fit_scorecard on %(loans)s loans disbursed %(first)s to %(last)s (as of "
            "%(as_of)s); bad = ever %(bad_dpd)s+ days past due within %(window)s days of "
            "disbursement."
        ),
        _(
            "Held-out (%(test_rows)s loans, %(test_bads)s bad): AUC %(auc)s, KS %(ks)s; "
            "training (%(train_rows)s loans, %(train_bads)s bad): AUC %(auc_train)s, KS "
            "%(ks_train)s. Split by borrower, seed %(seed)s, test size %(test_size)s."
        ),
        _(
            "Points: %(base_score)s at odds %(base_odds)s:1 good to bad, %(pdo)s points double "
            "the odds. Grade cut-offs from training score quantiles."
        ),
        _("Held-out bad loans by grade: %(calibration)s")
        if r.grades_monotone
        else _("Held-out bad loans by grade: %(calibration)s (NOT monotone: review before use)"),
        _("Copied from version %(version)s except the scorecard and grades."),
    ]
    lines = [line % figures for line in lines]
    if r.dropped:
        lines.append(_("Not scored: %(attributes)s.") % {"attributes": not_scored(r)})
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
