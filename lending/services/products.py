"""Loan products: saved only when their own pricing respects the APR ceiling."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from lending.access import Perm, require
from lending.errors import LendingError, LendingErrorCode
from lending.models import LoanProduct
from lending.services.audit import audit_log


@transaction.atomic
def product_save(*, product: LoanProduct, acting_user) -> LoanProduct:
    """Create or update a product after every model rule (ranges, order, APR ceiling) passes."""
    creating = product.pk is None
    if creating:
        require(acting_user, Perm.ADD_PRODUCT, to=_("create products"))
    else:
        require(acting_user, Perm.CHANGE_PRODUCT, to=_("change products"))
    try:
        product.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        code = (
            LendingErrorCode.PRICING_ABOVE_CEILING
            if field == "apr_ceiling"
            else LendingErrorCode.INVALID
        )
        field = None if field == "__all__" else field
        raise LendingError(code, " ".join(messages), field=field) from None
    product.save()
    audit_log(
        actor=acting_user,
        action="product.create" if creating else "product.update",
        obj=product,
        summary=product.code,
    )
    return product
