"""End-of-cycle scores and calibration verdicts (DESIGN §3)."""

from __future__ import annotations

import pytest

from tests.workflow.computation.test_progress import key_result
from workflow.computation.calibration import CALIBRATED, SANDBAGGING, TOO_HARD, calibration
from workflow.computation.scoring import committed_missed, default_score, effective_score, grade, objective_score
from workflow.enums import Color, Commitment
from workflow.models import Objective


def test_default_score_is_progress_capped_at_one() -> None:
    assert default_score(key_result(0, 10, values=(7.456,))) == 0.75
    assert default_score(key_result(0, 10, values=(25,))) == 1.0
    assert default_score(key_result(0, 10, values=(-5,))) == 0.0
    assert default_score(key_result(0, 10)) == 0.0


def test_owner_override_wins_and_objective_score_is_the_weighted_mean() -> None:
    overridden = key_result(0, 10, values=(2,), weight=3)
    overridden.score = 0.9
    plain = key_result(0, 10, values=(5,), weight=1)
    guard = key_result(5, 5, counter=True, values=(9,))
    guard.score = 0.0
    assert effective_score(overridden) == 0.9
    assert objective_score([overridden, plain, guard]) == round((0.9 * 3 + 0.5) / 4, 2)
    assert objective_score([guard]) is None


@pytest.mark.parametrize(
    ("score", "color"),
    [
        (None, Color.GREY),
        (1.0, Color.GREEN),
        (0.7, Color.GREEN),
        (0.69, Color.YELLOW),
        (0.4, Color.YELLOW),
        (0.39, Color.RED),
        (0.0, Color.RED),
    ],
)
def test_grades(score: float | None, color: Color) -> None:
    assert grade(score) == color


@pytest.mark.parametrize(
    ("commitment", "score", "missed"),
    [
        (Commitment.COMMITTED, 1.0, False),
        (Commitment.COMMITTED, 0.99, True),
        (Commitment.COMMITTED, None, True),
        (Commitment.ASPIRATIONAL, 0.7, False),
        (Commitment.ASPIRATIONAL, 0.1, False),
    ],
)
def test_committed_below_one_is_missed(commitment: Commitment, score: float | None, missed: bool) -> None:
    assert committed_missed(Objective(commitment=commitment), score) is missed


@pytest.mark.parametrize(
    ("newest_first", "verdict"),
    [
        ([], CALIBRATED),
        ([0.95], CALIBRATED),  # one cycle is not a pattern
        ([0.95, 0.9], SANDBAGGING),
        ([0.95, None, 0.92], SANDBAGGING),  # a cycle without aspirational objectives neither breaks nor extends
        ([0.95, 0.6, 0.95, 0.95], CALIBRATED),  # the latest streak is what counts
        ([0.3, 0.1], TOO_HARD),
        ([0.39, 0.4], CALIBRATED),
        ([0.7, 0.65, 0.72], CALIBRATED),
    ],
)
def test_calibration_needs_a_streak(newest_first: list[float | None], verdict: str) -> None:
    assert calibration(newest_first) == verdict
