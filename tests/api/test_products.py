"""Products and quotes: the same figures the admin's quote page shows."""

from decimal import Decimal

import pytest

from lending import roles
from lending.models import AuditEvent
from tests.api.conftest import API, assert_problem
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_products_list_and_detail(finance):
    product = ProductFactory(code="cash12")
    ProductFactory(code="aaa", is_active=False)
    codes = [p["code"] for p in finance.get(API + "products/").json()["results"]]
    assert codes == ["aaa", "cash12"]
    active = finance.get(API + "products/", {"is_active": "true"}).json()["results"]
    assert [p["code"] for p in active] == ["cash12"]
    detail = finance.get(API + f"products/{product.code}/").json()
    assert detail["max_rate"] == "0.180000"
    assert_problem(finance.get(API + "products/nope/"), 404, "not_found")


def test_a_quote_gives_the_schedule_apr_and_cost(finance):
    product = ProductFactory(code="cash12")
    events = AuditEvent.objects.count()
    response = finance.post(
        API + "quotes/",
        {
            "product": "cash12",
            "amount": "10000.00",
            "rate": "0.18",
            "term": 12,
            "start_date": "2026-01-15",
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 200, body
    assert len(body["installments"]) == 12
    principal = sum(Decimal(row["principal"]) for row in body["installments"])
    assert principal == Decimal("10000.00")
    assert Decimal(body["apr"]) == Decimal("0.18")  # no fee: APR (IRR × 12) is the rate
    assert Decimal(body["total_cost"]) == Decimal(body["total_interest"]) + Decimal(
        body["total_fees"]
    )
    assert AuditEvent.objects.count() == events  # nothing written
    assert product.pk


def test_a_quote_outside_the_product_range_is_refused(finance):
    ProductFactory(code="cash12")
    response = finance.post(
        API + "quotes/",
        {"product": "cash12", "amount": "50.00", "rate": "0.18", "term": 12,
         "start_date": "2026-01-15"},
        format="json",
    )  # fmt: skip
    assert_problem(response, 400, "out_of_range", "amount")


def test_collectors_do_not_see_products(client_for):
    assert_problem(client_for(roles.COLLECTOR).post(API + "quotes/", {}), 403, "permission_denied")
