"""End-of-cycle scores (DESIGN §3): key result defaults, objective means, grades, misses."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.computation.progress import progress, weighted_mean
from workflow.enums import Color, Commitment
from workflow.models import KeyResult, Objective


def default_score(kr: KeyResult) -> float:
    """Progress capped at 1, to two decimals, until the owner overrides it."""
    return round(min(1.0, progress(kr)), 2)


def effective_score(kr: KeyResult) -> float:
    return kr.score if kr.score is not None else default_score(kr)


def objective_score(key_results: Sequence[KeyResult]) -> float | None:
    pairs = [(effective_score(kr), kr.weight) for kr in key_results if not kr.counter_metric]
    mean = weighted_mean(pairs)
    return None if mean is None else round(mean, 2)


def grade(score: float | None) -> Color:
    if score is None:
        return Color.GREY
    if score >= 0.7:
        return Color.GREEN
    if score >= 0.4:
        return Color.YELLOW
    return Color.RED


def committed_missed(objective: Objective, score: float | None) -> bool:
    """A committed objective is expected to reach 1.0; anything less is a miss."""
    return objective.commitment == Commitment.COMMITTED and (score is None or score < 1.0)
