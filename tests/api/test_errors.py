"""One error format: DRF's own errors and the URL resolver's come out as problem details."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from lending import roles
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401_with_a_token_challenge(anon):
    response = anon.get(API + "loans/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_problem(anon.get(API + "loans/"), 401, "authentication_failed")


def test_an_unknown_url_under_the_api_is_a_404_problem(finance):
    assert_problem(finance.get(API + "no-such-thing/"), 404, "not_found")
    assert_problem(finance.get(API + "loans/LN404/"), 404, "not_found")


def test_a_wrong_method_is_405(finance):
    assert_problem(finance.delete(API + "loans/"), 405, "method_not_allowed")


def test_a_body_that_is_not_json_is_a_parse_error(finance):
    response = finance.post(API + "quotes/", data="{not json", content_type="application/json")
    assert_problem(response, 400, "parse_error")


def test_nan_in_json_is_a_parse_error(finance):
    response = finance.post(
        API + "quotes/", data='{"amount": NaN}', content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")


def test_an_unsupported_media_type_is_415(finance):
    response = finance.post(API + "quotes/", data="amount=1", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_a_body_that_is_a_list_is_a_400(finance):
    response = finance.post(API + "quotes/", data=[1, 2], format="json")
    assert_problem(response, 400, "invalid")


def test_throttled_is_429_with_retry_after(finance, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "2/minute")
    finance.get(API + "loans/")
    finance.get(API + "loans/")
    response = finance.get(API + "loans/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_forged_cursor_is_a_404_not_a_500(finance):
    active_loan()
    for cursor in ["cD1hYmM=", "cD0xLjU="]:  # p=abc, p=1.5
        assert_problem(finance.get(API + "loans/", {"cursor": cursor}), 404, "not_found")
    # p=10**30: past every id, so simply the whole list (never an overflow)
    huge = "cD0xMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
    assert finance.get(API + "loans/", {"cursor": huge}).status_code == 200


def test_a_huge_id_in_the_path_is_a_404(finance):
    assert_problem(finance.get(API + "borrowers/" + "9" * 30 + "/"), 404, "not_found")
    assert_problem(finance.get(API + "borrowers/" + "9" * 18 + "/"), 404, "not_found")


def test_bad_filters_are_400_naming_the_parameter(finance):
    body = assert_problem(finance.get(API + "loans/", {"dpd_min": "lots"}), 400, "invalid")
    assert "dpd_min" in body["errors"]
    body = assert_problem(
        finance.get(API + "loans/", {"dpd_max": "1" + "0" * 30}), 400, "out_of_range"
    )
    assert "dpd_max" in body["errors"]
    assert_problem(finance.get(API + "loans/", {"disbursed_from": "99999-01-01"}), 400, "invalid")
    assert_problem(finance.get(API + "loans/", {"status": "bogus"}), 400, "invalid")


def test_a_role_without_the_read_permission_is_403(client_for):
    collector = client_for(roles.COLLECTOR)
    assert_problem(collector.get(API + "products/"), 403, "permission_denied")
    assert_problem(collector.get(API + "policies/"), 403, "permission_denied")
