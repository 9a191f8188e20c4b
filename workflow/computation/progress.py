"""Current value, target, progress, health and projection of key results and objectives.

Where figures are stored and where they are derived, and why:

- Stored, on the key result row: the aggregates of its in-cycle check-ins (count, sum, min, max,
  last value and when, and the least-squares sums). `aggregates.fold_check_in` updates them in
  O(1) in the check-in's transaction, so a check-in never scans other check-ins and never touches
  other objectives. Check-ins are append-only, which is what makes folding exact.
- Derived on read, here, from those rows: current value (by rollup), target, progress, health,
  color, projection, next check-in due, objective progress and the alignment rollup. Health moves
  with today's date, and a parent's aligned progress with any check-in below it, so storing them
  would mean rewriting rows daily or walking up the tree on every check-in; reading them costs
  nothing extra because the rows are read anyway.
- Scores are stored once given (the owner's override, the objective's when it completes); until
  then `scoring` derives the defaults.

So N objectives cost N objective rows and their key result rows in a constant number of
statements (schema/figures.py and the alignment tree batch them), and all else is Python.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from workflow.enums import CalculationType, Color, Direction, Health, Rollup, TrackingFrequency
from workflow.models import Cycle, KeyResult

FREQUENCY_DAYS = {
    TrackingFrequency.DAILY: 1,
    TrackingFrequency.WEEKLY: 7,
    TrackingFrequency.MONTHLY: 30,
    TrackingFrequency.QUARTERLY: 91,
}

HEALTH_COLORS = {
    Health.ON_TRACK: Color.GREEN,
    Health.AT_RISK: Color.YELLOW,
    Health.BEHIND: Color.RED,
    Health.NOT_STARTED: Color.GREY,
}


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def target_from(
    start: float, target: float | None, lift: float | None, calculation: CalculationType, direction: Direction
) -> float | None:
    """The value a key result aims at. A lift moves away from the start in the direction of improvement.

    A percentage lift is taken of the start's magnitude, so +10 % of -200 is -180, not -220: the lift
    must improve the metric whatever the sign of its start.
    """
    sign = 1.0 if direction == Direction.INCREASE else -1.0
    if calculation == CalculationType.PERCENTAGE_LIFT and lift is not None:
        return start + sign * abs(start) * lift / 100
    if calculation == CalculationType.ABSOLUTE_LIFT and lift is not None:
        return start + sign * lift
    return target


def target_of(kr: KeyResult) -> float:
    found = target_from(kr.start_value, kr.target_value, kr.lift_value, kr.calculation_type, kr.direction)
    return kr.target_value if found is None else found


def current_value(kr: KeyResult) -> float | None:
    count = kr.checkin_count
    if count == 0:
        return None
    match kr.rollup:
        case Rollup.AVERAGE:
            return kr.value_sum / count
        case Rollup.SUM:
            return kr.value_sum
        case Rollup.MAX:
            return kr.value_max
        case Rollup.MIN:
            return kr.value_min
        case _:
            return kr.last_value


def raw_progress(kr: KeyResult) -> float:
    """Unclamped: below 0 when the metric moved the wrong way, above 1 past the target."""
    current = current_value(kr)
    if current is None:
        return 0.0
    # Each column read once: on a whole-company tree this runs for every key result, and an ORM
    # attribute read costs more than the arithmetic.
    start, direction = kr.start_value, kr.direction
    found = target_from(start, kr.target_value, kr.lift_value, kr.calculation_type, direction)
    target = kr.target_value if found is None else found
    span = target - start
    if span == 0:
        reached = current >= target if direction == Direction.INCREASE else current <= target
        return 1.0 if reached else 0.0
    return (current - start) / span


def progress(kr: KeyResult) -> float:
    return clamp(raw_progress(kr))


def counter_metric_worse(kr: KeyResult) -> bool:
    """A counter metric is a guard: flag it when it moved the wrong way from its start.

    Judged against the start by direction, not through progress: a guard's target often equals its
    start ("keep churn at 2 %"), where progress cannot go below zero.
    """
    current = current_value(kr)
    if not kr.counter_metric or current is None:
        return False
    return current < kr.start_value if kr.direction == Direction.INCREASE else current > kr.start_value


def expected_progress(cycle: Cycle, today: dt.date) -> float:
    length = (cycle.ends_on - cycle.starts_on).days
    if length <= 0:
        return 1.0 if today >= cycle.ends_on else 0.0
    return clamp((today - cycle.starts_on).days / length)


def health(progress_value: float, expected: float, started: bool) -> Health:
    if not started:
        return Health.NOT_STARTED
    if progress_value >= expected - 0.1:
        return Health.ON_TRACK
    if progress_value >= 0.7 * expected:
        return Health.AT_RISK
    return Health.BEHIND


def day_offset(cycle: Cycle, moment: dt.datetime) -> float:
    start = dt.datetime.combine(cycle.starts_on, dt.time(), tzinfo=dt.UTC)
    return (moment - start).total_seconds() / 86400


@dataclass(frozen=True)
class Line:
    intercept: float
    slope: float


def fitted_line(kr: KeyResult) -> Line | None:
    """Least squares through the check-ins; a single check-in is joined by the start value at day 0."""
    n, st, stt, sv, stv = kr.fit_count, kr.fit_sum_t, kr.fit_sum_tt, kr.fit_sum_v, kr.fit_sum_tv
    if n == 0:
        return None
    if n == 1:
        n, st, stt, sv, stv = 2, st, stt, sv + kr.start_value, stv
    denominator = n * stt - st * st
    if abs(denominator) < 1e-12:
        return None
    slope = (n * stv - st * sv) / denominator
    return Line(intercept=(sv - slope * st) / n, slope=slope)


def projected_value(kr: KeyResult, cycle: Cycle) -> float | None:
    line = fitted_line(kr)
    if line is None:
        return None
    end = (cycle.ends_on - cycle.starts_on).days
    return line.intercept + line.slope * end


def projected_completion(kr: KeyResult, cycle: Cycle) -> dt.date | None:
    """The date the fitted line reaches the target; None when it never does."""
    if raw_progress(kr) >= 1.0 and kr.last_measured_at is not None:
        return kr.last_measured_at.date()
    line = fitted_line(kr)
    if line is None or line.slope == 0:
        return None
    target = target_of(kr)
    improving = line.slope > 0 if kr.direction == Direction.INCREASE else line.slope < 0
    if not improving:
        return None
    days = (target - line.intercept) / line.slope
    if days > 3650 * 10:
        return None
    # The target is not reached yet, so the line crossing it in the past means "about now".
    latest = day_offset(cycle, kr.last_measured_at) if kr.last_measured_at is not None else 0.0
    return cycle.starts_on + dt.timedelta(days=math.floor(max(0.0, latest, days)))


def next_check_in_due(kr: KeyResult, cycle: Cycle) -> dt.date:
    step = dt.timedelta(days=FREQUENCY_DAYS[TrackingFrequency(kr.tracking_frequency)])
    if kr.last_measured_at is None:
        return cycle.starts_on + step
    return kr.last_measured_at.date() + step


def weighted_mean(pairs: Sequence[tuple[float, float]]) -> float | None:
    total = sum(weight for _, weight in pairs)
    if total <= 0:
        return None
    return sum(value * weight for value, weight in pairs) / total


def objective_progress(key_results: Sequence[KeyResult]) -> float:
    """Weighted mean of the key results' progress; counter metrics guard, they do not count."""
    pairs = [(progress(kr), kr.weight) for kr in key_results if not kr.counter_metric]
    mean = weighted_mean(pairs)
    return 0.0 if mean is None else mean


def objective_started(key_results: Sequence[KeyResult]) -> bool:
    return any(kr.checkin_count > 0 for kr in key_results)
