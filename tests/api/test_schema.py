"""The OpenAPI schema generates without a warning, documents the error codes, and the docs
pages are served from the sidecar (offline)."""

import pytest
from django.core.management import call_command

from config.api.errors import ALL_CODES
from debt_collection.errors import CollectionsErrorCode

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "application/problem+json" in text
    assert "ProblemCodeEnum" in text
    for code in ("loan_not_active", "idempotency_conflict", "unknown_field", "same_person"):
        assert f"- {code}" in text
    # The compliance guard's refusals are published codes too.
    for code in CollectionsErrorCode:
        assert f"- {code}" in text
    assert "/api/v1/loans/{reference}/repayments/" in text
    for path in (
        "/api/v1/collections/cases/",
        "/api/v1/collections/cases/{id}/contacts/",
        "/api/v1/collections/cases/{id}/promises/",
        "/api/v1/collections/cases/reassign/",
        "/api/v1/collections/queues/",
        "/api/v1/collections/policies/{version}/activate/",
        "/api/v1/collections/holds/",
    ):
        assert f"{path}:" in text
    # The contact's choices are enums in the schema.
    for enum in ("ContactChannelEnum", "ContactPartyEnum", "ContactOutcomeEnum"):
        assert f"{enum}:" in text
    assert "approve/" not in text


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    components = schema.json()["components"]["schemas"]
    assert set(components["ProblemCodeEnum"]["enum"]) == set(ALL_CODES)
    assert set(components["ContactChannelEnum"]["enum"]) == {
        "call",
        "sms",
        "email",
        "letter",
        "visit",
    }
    assert set(components["ContactPartyEnum"]["enum"]) == {"borrower", "emergency_contact"}
    assert "deceased" in components["ContactOutcomeEnum"]["enum"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "drf_spectacular_sidecar" in docs.content.decode()
    assert client.get("/api/redoc/").status_code == 200
