"""`/metrics`: Prometheus text with requests by operation and status, latency, pool, scheduler, webhooks."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from server.metrics import operation_label
from tests.fixtures.api import Api
from tests.fixtures.factories import Factory
from workflow.enums import Role


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_are_counted_by_operation_and_outcome(api: Api, factory: Factory) -> None:
    org = await factory.organization()
    user = await factory.user(org, Role.MEMBER)
    before = await scrape(api.client)

    await api("query WhoAmI { viewer { name } }", as_=user)
    await api("query WhoAmI { viewer { name } }", as_=user)
    failed = await api.post("query Broken { viewer { noSuchField } }", as_=user)
    assert failed.json()["errors"]

    after = await scrape(api.client)
    ok = ("okr_graphql_requests_total", {"operation": "WhoAmI", "status": "ok"})
    assert value(after, ok[0], **ok[1]) - value(before, ok[0], **ok[1]) == 2
    broken = {"operation": "Broken", "status": "error"}
    assert (
        value(after, "okr_graphql_requests_total", **broken) - value(before, "okr_graphql_requests_total", **broken)
        == 1
    )
    timed = value(after, "okr_graphql_request_duration_seconds_count", operation="WhoAmI")
    assert timed - value(before, "okr_graphql_request_duration_seconds_count", operation="WhoAmI") == 2
    assert value(after, "okr_http_requests_total", route="/graphql", status="200") > value(
        before, "okr_http_requests_total", route="/graphql", status="200"
    )
    for gauge in ("okr_db_pool_checked_out", "okr_scheduler_lag_seconds", "okr_webhook_failures_total"):
        assert any(name == gauge for name, _ in after), gauge


def test_client_chosen_operation_names_cannot_explode_the_series() -> None:
    assert operation_label(None) == "anonymous"
    assert operation_label('Evil{label="x"}') == "Evil_label__x__"
    assert len(operation_label("A" * 500)) == 64
    labels = {operation_label(f"Op{i}") for i in range(1000)}
    assert "other" in labels
    assert len(labels) <= 201
