"""The endpoints of the concessions, borrower writes and risk writes are in the OpenAPI schema,
each operation with a summary, a description, its problem-details error responses, and an
example for every request body."""

import pytest

pytestmark = pytest.mark.django_db

NEW = {
    "/api/v1/collections/cases/{id}/waivers/": {"get", "post"},
    "/api/v1/collections/cases/{id}/settlements/": {"get", "post"},
    "/api/v1/collections/waivers/": {"get"},
    "/api/v1/collections/waivers/{id}/": {"get"},
    "/api/v1/collections/waivers/{id}/decide/": {"post"},
    "/api/v1/collections/settlements/": {"get"},
    "/api/v1/collections/settlements/{id}/": {"get"},
    "/api/v1/collections/settlements/{id}/decide/": {"post"},
    "/api/v1/collections/write-offs/": {"get"},
    "/api/v1/collections/write-offs/{id}/": {"get"},
    "/api/v1/collections/write-offs/{id}/decide/": {"post"},
    "/api/v1/collections/recoveries/": {"get", "post"},
    "/api/v1/collections/kpis/": {"get"},
    "/api/v1/collections/queues/": {"get", "post"},
    "/api/v1/collections/queues/{id}/": {"get", "patch"},
    "/api/v1/borrowers/": {"get", "post"},
    "/api/v1/borrowers/{id}/": {"get", "patch"},
    "/api/v1/borrowers/{id}/emergency-contacts/": {"get", "post"},
    "/api/v1/borrowers/{id}/emergency-contacts/{contact_id}/": {"patch", "delete"},
    "/api/v1/policies/": {"get", "post"},
    "/api/v1/policies/{version}/": {"get", "patch"},
    "/api/v1/policies/{version}/copy/": {"post"},
    "/api/v1/policies/{version}/activate/": {"post"},
    "/api/v1/limit-increase-proposals/": {"get", "post"},
    "/api/v1/limit-increase-proposals/{id}/": {"get"},
    "/api/v1/limit-increase-proposals/{id}/decide/": {"post"},
}
# Reads whose summary says all there is to say (as the existing list and detail reads).
NO_DESCRIPTION_NEEDED = {
    ("/api/v1/collections/cases/{id}/waivers/", "get"),
    ("/api/v1/collections/write-offs/{id}/", "get"),
    ("/api/v1/limit-increase-proposals/{id}/", "get"),
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_new_operation_is_documented(schema):
    paths = schema["paths"]
    for path, methods in NEW.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
        for method in methods:
            operation = paths[path][method]
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            if (path, method) not in NO_DESCRIPTION_NEEDED and method != "get":
                assert operation.get("description"), where
            errors = {code for code in operation["responses"] if code.startswith(("4", "5"))}
            assert {"401", "403", "404"} <= errors or {"401", "403"} <= errors, where
            for code in errors:
                content = operation["responses"][code]["content"]
                assert set(content) == {"application/problem+json"}, (where, code)
            body = operation.get("requestBody")
            if body and method in ("post", "patch"):
                has_example = any(
                    media.get("examples") or media.get("example")
                    for media in body["content"].values()
                )
                shapes = body["content"]["application/json"]["schema"]
                # A body of one optional field (copy's name) or none needs no example.
                if "/copy/" not in path:
                    assert has_example, where
                assert shapes, where
    assert not [p for p in paths if p.endswith("/approve/")]


def test_the_proposal_and_limit_states_are_named_enums(schema):
    components = schema["components"]["schemas"]
    assert set(components["ProposalStateEnum"]["enum"]) == {
        "pending",
        "approved",
        "rejected",
        "settled",
        "lapsed",
    }
    assert set(components["LimitProposalStatusEnum"]["enum"]) == {
        "proposed",
        "approved",
        "rejected",
    }
    assert "proposal_decided" in components["ProblemCodeEnum"]["enum"]
    assert "in_use" in components["ProblemCodeEnum"]["enum"]
