"""The product-level pricing rule: a product whose own pricing exceeds its APR ceiling is refused.

Pure: works on any object with the product's attributes, so the model's clean(), the product
service and the tests share one rule.
"""

from datetime import date
from decimal import Decimal

from lending.money import quantize_money
from lending.schedules import FeeCollection, RepaymentMethod, ScheduleTerms, quote

# The reference start date only fixes the calendar; APR does not depend on it materially.
_REFERENCE_START = date(2025, 1, 15)


def origination_fee(fee_type: str, fee_value: Decimal, amount: Decimal, currency: str) -> Decimal:
    if fee_type == "flat":
        return quantize_money(fee_value, currency)
    if fee_type == "percent":
        return quantize_money(amount * fee_value, currency)
    return quantize_money(0, currency)


def worst_case_apr(product) -> Decimal:
    """Highest APR the product can produce: the top rate, at each corner of amount and term."""
    aprs = []
    for amount in {product.min_amount, product.max_amount}:
        fee = origination_fee(product.fee_type, product.fee_value, amount, product.currency)
        if fee >= amount:
            return Decimal("Infinity")
        for term in {product.min_term_months, product.max_term_months}:
            terms = ScheduleTerms(
                principal=amount,
                annual_rate=product.max_rate,
                term_months=term,
                start_date=_REFERENCE_START,
                method=RepaymentMethod(product.repayment_method),
                origination_fee=fee,
                fee_collection=FeeCollection(product.fee_collection),
                currency=product.currency,
            )
            aprs.append(quote(terms).apr)
    return max(aprs)


def pricing_ceiling_error(product) -> str | None:
    """A message when the product's pricing breaks its ceiling, else None."""
    if None in (
        product.min_amount,
        product.max_amount,
        product.min_term_months,
        product.max_term_months,
        product.max_rate,
        product.apr_ceiling,
    ):
        return None  # incomplete forms get their own field errors first
    if product.min_amount <= 0 or product.min_term_months < 1 or product.max_rate < 0:
        return None
    apr = worst_case_apr(product)
    if apr > product.apr_ceiling:
        shown = "more than 100 %" if apr.is_infinite() else f"{apr * 100:.2f} %"
        return (
            f"the product's pricing reaches an APR of {shown} (maximum rate with the "
            f"origination fee), above its ceiling of {product.apr_ceiling * 100:.2f} %"
        )
    return None
