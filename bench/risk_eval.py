"""Credit-policy evaluation speed: the issue's target is ≥ 10,000 evaluations a second.

    .venv/bin/python -m bench.risk_eval [--n 50000]

Pure code, no database: parses DEFAULT_POLICY once and evaluates a fixed, seeded mix of
profiles (good, thin-file, declined, referred), printing the rate; the last line is one JSON
object. Compare runs on one machine in one sitting; the figure is not a test assertion.
"""

import argparse
import json
import random
import time
from decimal import Decimal

from risk.policy import (
    DEFAULT_POLICY,
    EMPLOYMENT_TYPES,
    LoanRequest,
    RiskProfile,
    evaluate,
    parse_policy,
)

TARGET_PER_SECOND = 10_000


def profiles(n: int, seed: int = 7) -> list[tuple[RiskProfile, LoanRequest]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        missing = rng.random() < 0.1
        profile = RiskProfile(
            age=rng.randint(16, 65),
            monthly_income=None if missing else Decimal(rng.randrange(3000, 40000)),
            income_verified=rng.random() < 0.85,
            employment_type=rng.choice(EMPLOYMENT_TYPES),
            employment_months=rng.randint(0, 240),
            existing_monthly_debt=Decimal(rng.randrange(0, 8000)),
            bureau_score=None if missing else rng.randint(350, 850),
            bureau_inquiries_6m=rng.randint(0, 10),
            bureau_worst_delinquency_days=rng.choice([0, 0, 0, 15, 45, 120]),
            bureau_current_delinquencies=rng.choice([0] * 9 + [1]),
            blacklisted=rng.random() < 0.02,
            platform_worst_dpd=rng.choice([0, 0, 0, 3, 35]),
            platform_on_time_ratio=Decimal(rng.randint(50, 100)) / 100,
            platform_loans_repaid=rng.randint(0, 5),
        )
        request = LoanRequest(
            amount=Decimal(rng.randrange(1000, 50000)),
            new_monthly_payment=Decimal(rng.randrange(100, 5000)),
        )
        out.append((profile, request))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()
    policy = parse_policy(DEFAULT_POLICY)
    cases = profiles(args.n)
    evaluate(*cases[0][:1], policy)  # warm up
    started = time.perf_counter()
    outcomes: dict[str, int] = {}
    for profile, request in cases:
        decision = evaluate(profile, policy, request)
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    seconds = time.perf_counter() - started
    rate = args.n / seconds
    print(f"{args.n} evaluations in {seconds:.2f} s: {rate:,.0f}/s (target {TARGET_PER_SECOND:,})")
    print(f"outcomes: {outcomes}")
    print(
        json.dumps(
            {
                "evaluations": args.n,
                "seconds": round(seconds, 3),
                "evaluations_per_second": round(rate),
                "target_per_second": TARGET_PER_SECOND,
                "ratio_to_target": round(rate / TARGET_PER_SECOND, 2),
                "outcomes": outcomes,
            }
        )
    )


if __name__ == "__main__":
    main()
