"""The OKR coach over HTTP: the classic bad objective is caught, the good one passes."""

from __future__ import annotations

from typing import Any

from schema.ids import to_global_id
from tests.fixtures.api import Api
from tests.fixtures.database import TransactionalDatabase, count_statements
from tests.fixtures.factories import Factory
from workflow import models
from workflow.enums import Role

LINT = """
query($input: ObjectiveInput!) { lintObjective(input: $input) { rule severity message field } }
"""


def kr(
    title: str, start: float, target: float, direction: str = "INCREASE", unit: str = "", **extra: Any
) -> dict[str, Any]:
    return {
        "title": title,
        "metricName": "",
        "unit": unit,
        "startValue": start,
        "targetValue": target,
        "direction": direction,
        "calculationType": "ABSOLUTE_TARGET",
        "trackingFrequency": "WEEKLY",
        "rollup": "LAST",
        **extra,
    }


async def setting(factory: Factory) -> tuple[models.User, models.Cycle, models.Team, models.Team]:
    org = await factory.organization()
    company = await factory.team(org, "Company")
    product = await factory.team(org, "Product", parent=company)
    lead = await factory.user(org, Role.EXEC)
    return lead, await factory.cycle(org), company, product


async def test_the_classic_bad_okr_is_caught(api: Api, factory: Factory) -> None:
    user, cycle, _, product = await setting(factory)
    draft = {
        "cycleId": to_global_id("Cycle", cycle.id),
        "ownerTeamId": to_global_id("Team", product.id),
        "title": "Improve our product",
        "keyResults": [kr("Ship 10 new features", 0, 10), kr("Fix bugs", 0, 1), kr("Make users happier", 0, 1)],
    }
    findings = (await api(LINT, {"input": draft}, as_=user))["lintObjective"]
    by_rule = {(f["rule"], f["field"]): f for f in findings}
    assert ("key-result.output-verb", "keyResults.0.title") in by_rule
    assert (
        '"Ship 10 new features" describes work to do ("ship")'
        in by_rule[("key-result.output-verb", "keyResults.0.title")]["message"]
    )
    assert ("key-result.output-verb", "keyResults.1.title") in by_rule  # "fix" is a task too
    assert ("key-result.no-number", "keyResults.1.title") in by_rule
    assert ("key-result.no-number", "keyResults.2.title") in by_rule
    assert ("key-result.boolean", "keyResults.2") in by_rule
    assert ("objective.missing-motivation", "motivation") in by_rule
    assert ("objective.not-aligned", "parentId") in by_rule
    assert all(f["severity"] in {"INFO", "WARNING", "ERROR"} and f["message"] for f in findings)
    assert ("key-result.no-number", "keyResults.0.title") not in by_rule


async def test_the_good_okr_passes(api: Api, factory: Factory) -> None:
    user, cycle, company, _ = await setting(factory)
    draft = {
        "cycleId": to_global_id("Cycle", cycle.id),
        "ownerTeamId": to_global_id("Team", company.id),
        "title": "Deliver a product experience that users love",
        "motivation": "Retention follows delight; our churn interviews point at the product, not the price.",
        "keyResults": [
            kr("Increase daily active users from 1,200 to 3,000", 1200, 3000, unit="users"),
            kr("Reduce average bug resolution time from 5 days to 1 day", 5, 1, "DECREASE", unit="days"),
            kr("Increase in-app NPS from 25 to 50", 25, 50, unit="NPS"),
        ],
    }
    findings = (await api(LINT, {"input": draft}, as_=user))["lintObjective"]
    assert [f for f in findings if f["severity"] != "INFO"] == []
    # It only suggests guarding the growth key results with a counter metric.
    assert [f["rule"] for f in findings] == ["key-results.no-counter-metric"]
    guarded = {
        **draft,
        "keyResults": [*draft["keyResults"], kr("Keep churn at 2 %", 2, 2, "DECREASE", "%", counterMetric=True)],
    }
    assert (await api(LINT, {"input": guarded}, as_=user))["lintObjective"] == []


async def test_counting_rules_and_targets(api: Api, factory: Factory) -> None:
    user, cycle, _, product = await setting(factory)
    for i in range(5):
        await factory.objective(cycle, product, title=f"Existing {i}")
    base = {
        "cycleId": to_global_id("Cycle", cycle.id),
        "ownerTeamId": to_global_id("Team", product.id),
        "title": "Grow 20% in Q3",
        "motivation": "Why",
        "parentId": to_global_id("Objective", 1),
    }
    one = (await api(LINT, {"input": {**base, "keyResults": [kr("Reach 5 deals", 5, 5)]}}, as_=user))["lintObjective"]
    rules = {f["rule"]: f for f in one}
    assert rules["objective.has-number"]["field"] == "title"
    assert rules["key-results.too-few"]["severity"] == "WARNING"
    assert rules["key-result.start-equals-target"]["severity"] == "ERROR"
    assert "Product has 6 objectives" in rules["team.too-many-objectives"]["message"]
    five = [kr(f"Increase metric {i} from 1 to 2", 1, 2) for i in range(5)]
    many = (await api(LINT, {"input": {**base, "keyResults": five}}, as_=user))["lintObjective"]
    assert "key-results.too-many" in {f["rule"] for f in many}
    none = (await api(LINT, {"input": {**base, "title": "Win Q3", "keyResults": []}}, as_=user))["lintObjective"]
    assert {f["rule"] for f in none} == {"key-results.none", "team.too-many-objectives"}
    lift = kr("Increase revenue by 10 %", 100, 0, calculationType="PERCENTAGE_LIFT", liftValue=10)
    lift.pop("targetValue")
    no_target = kr("Increase revenue to 3", 1, 0)
    no_target.pop("targetValue")
    found = (await api(LINT, {"input": {**base, "keyResults": [lift, no_target]}}, as_=user))["lintObjective"]
    assert [f["field"] for f in found if f["rule"] == "key-result.no-target"] == ["keyResults.1.targetValue"]


OBJECTIVES_LINT = """
query { objectives(first: 100) { edges { node { title lint { rule severity field } } } } }
"""


async def test_objective_lint_uses_the_same_rules_in_bulk(
    api: Api, factory: Factory, test_db: TransactionalDatabase
) -> None:
    user, cycle, company, product = await setting(factory)
    bad = await factory.objective(cycle, product, title="Improve our product")
    await factory.key_result(bad, title="Ship 10 new features", start=0, target=10)
    counts = []
    for _ in range(2):
        with count_statements(test_db) as counter:
            data = await api(OBJECTIVES_LINT, as_=user)
        counts.append(counter.count)
        assert len(data["objectives"]["edges"]) == 1 + 20 * len(counts) - 20
        for i in range(20):
            await factory.objective(cycle, company if i % 2 else product, title=f"Filler {i}")
    assert counts[0] == counts[1], counts
    edges = (await api(OBJECTIVES_LINT, as_=user))["objectives"]["edges"]
    found = {f["rule"] for f in next(e for e in edges if e["node"]["title"] == "Improve our product")["node"]["lint"]}
    assert {
        "key-result.output-verb",
        "key-results.too-few",
        "objective.not-aligned",
        "team.too-many-objectives",
    } <= found
