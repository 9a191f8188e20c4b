"""Unit checks of the coach's text rules."""

from __future__ import annotations

import pytest

from workflow.computation.lint import KeyResultDraft, has_number, lint_key_result, output_verb
from workflow.enums import Direction


@pytest.mark.parametrize(
    ("title", "verb"),
    [
        ("Ship 10 new features", "ship"),
        ("Shipped the mobile app", "ship"),
        ("Launching in Germany", "launch"),
        ("Successfully launch v2", "launch"),
        ("Write 4 blog posts", "write"),
        ("Written guide published", "write"),
        ("Publishes a monthly report", "publish"),
        ("Running 5 experiments", "run"),
        ("Increase NPS from 25 to 50", None),
        ("Reduce churn from 3% to 2%", None),
        ("Grow shipping volume from 1k to 2k", None),
        ("", None),
    ],
)
def test_output_verbs_are_recognised_in_their_forms(title: str, verb: str | None) -> None:
    assert output_verb(title) == verb


@pytest.mark.parametrize(
    ("text", "expected"),
    [("from 1,200 to 3,000", True), ("by 10%", True), ("Win Q3", False), ("Improve our product", False), ("3x", True)],
)
def test_numbers_inside_words_do_not_count(text: str, expected: bool) -> None:
    assert has_number(text) is expected


def test_a_counter_metric_may_hold_its_level() -> None:
    guard = KeyResultDraft("Keep churn at 2 %", "%", 2, 2, Direction.DECREASE, counter_metric=True)
    assert lint_key_result(guard, 0) == []
    plain = KeyResultDraft("Keep churn at 2 %", "%", 2, 2, Direction.DECREASE)
    assert [f.rule for f in lint_key_result(plain, 0)] == ["key-result.start-equals-target"]
