"""Key result and objective figures against hand-computed tables (DESIGN §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.computation import progress as figures
from workflow.computation.aggregates import fold_check_in, reset_aggregates
from workflow.enums import CalculationType, Direction, Health, Rollup, TrackingFrequency
from workflow.models import Cycle, KeyResult

A, P, L = CalculationType.ABSOLUTE_TARGET, CalculationType.PERCENTAGE_LIFT, CalculationType.ABSOLUTE_LIFT
UP, DOWN = Direction.INCREASE, Direction.DECREASE
CYCLE_START = dt.date(2026, 10, 1)


def cycle(starts_on: dt.date = CYCLE_START, ends_on: dt.date = dt.date(2026, 12, 31)) -> Cycle:
    return Cycle(id=1, organization_id=1, name="Q4", kind="QUARTER", starts_on=starts_on, ends_on=ends_on)


def key_result(
    start: float,
    target: float = 0.0,
    *,
    lift: float | None = None,
    calculation: CalculationType = A,
    direction: Direction = UP,
    rollup: Rollup = Rollup.LAST,
    values: tuple[float, ...] = (),
    counter: bool = False,
    weight: float = 1.0,
) -> KeyResult:
    kr = KeyResult(
        start_value=start,
        target_value=target,
        lift_value=lift,
        calculation_type=calculation,
        direction=direction,
        rollup=rollup,
        counter_metric=counter,
        weight=weight,
        tracking_frequency=TrackingFrequency.WEEKLY,
    )
    reset_aggregates(kr)
    the_cycle = cycle()
    for day, value in enumerate(values, start=1):
        fold_check_in(
            kr, the_cycle, value, dt.datetime.combine(CYCLE_START, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(days=day)
        )
    return kr


# Check-ins 30, 10, 26 (in that order): LAST 26, AVERAGE 22, SUM 66, MAX 30, MIN 10.
VALUES = (30.0, 10.0, 26.0)
CURRENT = {Rollup.LAST: 26.0, Rollup.AVERAGE: 22.0, Rollup.SUM: 66.0, Rollup.MAX: 30.0, Rollup.MIN: 10.0}

# (calculation, direction, start, target, lift) -> computed target, then raw progress per rollup.
TABLE: list[tuple[CalculationType, Direction, float, float, float | None, float, dict[Rollup, float]]] = [
    # INCREASE from 10 to 50: span 40.
    (
        A,
        UP,
        10,
        50,
        None,
        50,
        {Rollup.LAST: 0.4, Rollup.AVERAGE: 0.3, Rollup.SUM: 1.4, Rollup.MAX: 0.5, Rollup.MIN: 0.0},
    ),
    # +200 % of 10 is 30: span 20.
    (P, UP, 10, 0, 200, 30, {Rollup.LAST: 0.8, Rollup.AVERAGE: 0.6, Rollup.SUM: 2.8, Rollup.MAX: 1.0, Rollup.MIN: 0.0}),
    # 10 + 30 is 40: span 30.
    (
        L,
        UP,
        10,
        0,
        30,
        40,
        {Rollup.LAST: 16 / 30, Rollup.AVERAGE: 0.4, Rollup.SUM: 56 / 30, Rollup.MAX: 20 / 30, Rollup.MIN: 0.0},
    ),
    # DECREASE from 40 to 0: span -40.
    (
        A,
        DOWN,
        40,
        0,
        None,
        0,
        {Rollup.LAST: 0.35, Rollup.AVERAGE: 0.45, Rollup.SUM: -0.65, Rollup.MAX: 0.25, Rollup.MIN: 0.75},
    ),
    # -50 % of 40 is 20: span -20.
    (
        P,
        DOWN,
        40,
        0,
        50,
        20,
        {Rollup.LAST: 0.7, Rollup.AVERAGE: 0.9, Rollup.SUM: -1.3, Rollup.MAX: 0.5, Rollup.MIN: 1.5},
    ),
    # 40 - 35 is 5: span -35.
    (
        L,
        DOWN,
        40,
        0,
        35,
        5,
        {Rollup.LAST: 14 / 35, Rollup.AVERAGE: 18 / 35, Rollup.SUM: -26 / 35, Rollup.MAX: 10 / 35, Rollup.MIN: 30 / 35},
    ),
]


@pytest.mark.parametrize("rollup", list(Rollup))
@pytest.mark.parametrize(("calculation", "direction", "start", "target", "lift", "expected_target", "raws"), TABLE)
def test_rollup_by_calculation_by_direction(
    rollup: Rollup,
    calculation: CalculationType,
    direction: Direction,
    start: float,
    target: float,
    lift: float | None,
    expected_target: float,
    raws: dict[Rollup, float],
) -> None:
    kr = key_result(
        start, target, lift=lift, calculation=calculation, direction=direction, rollup=rollup, values=VALUES
    )
    assert figures.current_value(kr) == pytest.approx(CURRENT[rollup])
    assert figures.target_of(kr) == pytest.approx(expected_target)
    assert figures.raw_progress(kr) == pytest.approx(raws[rollup])
    assert figures.progress(kr) == pytest.approx(min(1.0, max(0.0, raws[rollup])))


# The same over negative check-ins -30, -10, -26: LAST -26, AVERAGE -22, SUM -66, MAX -10, MIN -30.
NEGATIVE_VALUES = (-30.0, -10.0, -26.0)
NEGATIVE_CURRENT = {Rollup.LAST: -26.0, Rollup.AVERAGE: -22.0, Rollup.SUM: -66.0, Rollup.MAX: -10.0, Rollup.MIN: -30.0}
NEGATIVE_TABLE: list[tuple[CalculationType, Direction, float, float, float | None, float, dict[Rollup, float]]] = [
    # -40 up to 0: span 40.
    (
        A,
        UP,
        -40,
        0,
        None,
        0,
        {Rollup.LAST: 0.35, Rollup.AVERAGE: 0.45, Rollup.SUM: -0.65, Rollup.MAX: 0.75, Rollup.MIN: 0.25},
    ),
    # 0 down to -40: span -40.
    (
        A,
        DOWN,
        0,
        -40,
        None,
        -40,
        {Rollup.LAST: 0.65, Rollup.AVERAGE: 0.55, Rollup.SUM: 1.65, Rollup.MAX: 0.25, Rollup.MIN: 0.75},
    ),
    # +50 % of -40 improves it to -20: span 20.
    (
        P,
        UP,
        -40,
        0,
        50,
        -20,
        {Rollup.LAST: 0.7, Rollup.AVERAGE: 0.9, Rollup.SUM: -1.3, Rollup.MAX: 1.5, Rollup.MIN: 0.5},
    ),
    # -50 % of -40 is -60: span -20, and every check-in went the wrong way but SUM.
    (
        P,
        DOWN,
        -40,
        0,
        50,
        -60,
        {Rollup.LAST: -0.7, Rollup.AVERAGE: -0.9, Rollup.SUM: 1.3, Rollup.MAX: -1.5, Rollup.MIN: -0.5},
    ),
    (
        L,
        UP,
        -40,
        0,
        20,
        -20,
        {Rollup.LAST: 0.7, Rollup.AVERAGE: 0.9, Rollup.SUM: -1.3, Rollup.MAX: 1.5, Rollup.MIN: 0.5},
    ),
    (
        L,
        DOWN,
        -40,
        0,
        20,
        -60,
        {Rollup.LAST: -0.7, Rollup.AVERAGE: -0.9, Rollup.SUM: 1.3, Rollup.MAX: -1.5, Rollup.MIN: -0.5},
    ),
]


@pytest.mark.parametrize("rollup", list(Rollup))
@pytest.mark.parametrize(
    ("calculation", "direction", "start", "target", "lift", "expected_target", "raws"), NEGATIVE_TABLE
)
def test_rollup_by_calculation_by_direction_over_negative_values(
    rollup: Rollup,
    calculation: CalculationType,
    direction: Direction,
    start: float,
    target: float,
    lift: float | None,
    expected_target: float,
    raws: dict[Rollup, float],
) -> None:
    kr = key_result(
        start, target, lift=lift, calculation=calculation, direction=direction, rollup=rollup, values=NEGATIVE_VALUES
    )
    assert figures.current_value(kr) == pytest.approx(NEGATIVE_CURRENT[rollup])
    assert figures.target_of(kr) == pytest.approx(expected_target)
    assert figures.raw_progress(kr) == pytest.approx(raws[rollup])
    assert figures.progress(kr) == pytest.approx(min(1.0, max(0.0, raws[rollup])))


# Start = target, whatever the calculation: a percentage lift of 0, or any lift of nothing.
START_IS_TARGET = [(A, 10.0, 10.0, None), (P, 0.0, 0.0, 50.0), (P, 10.0, 0.0, 0.0), (L, 10.0, 0.0, 0.0)]


@pytest.mark.parametrize("rollup", list(Rollup))
@pytest.mark.parametrize(("calculation", "start", "target", "lift"), START_IS_TARGET)
@pytest.mark.parametrize("direction", list(Direction))
def test_start_equal_to_target_by_rollup_and_calculation(
    rollup: Rollup, calculation: CalculationType, start: float, target: float, lift: float | None, direction: Direction
) -> None:
    # One check-in, so every rollup reads it as is (SUM included).
    better, worse = (start + 1, start - 1) if direction == UP else (start - 1, start + 1)
    reached = key_result(
        start, target, lift=lift, calculation=calculation, direction=direction, rollup=rollup, values=(better,)
    )
    missed = key_result(
        start, target, lift=lift, calculation=calculation, direction=direction, rollup=rollup, values=(worse,)
    )
    held = key_result(
        start, target, lift=lift, calculation=calculation, direction=direction, rollup=Rollup.LAST, values=(start,)
    )
    assert figures.target_of(reached) == start
    assert figures.progress(reached) == 1.0
    assert figures.progress(missed) == 0.0
    assert figures.progress(held) == 1.0
    assert (
        figures.progress(
            key_result(start, target, lift=lift, calculation=calculation, direction=direction, rollup=rollup)
        )
        == 0.0
    )


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [(UP, 10, 1.0), (UP, 12, 1.0), (UP, 9, 0.0), (DOWN, 10, 1.0), (DOWN, 8, 1.0), (DOWN, 11, 0.0)],
)
def test_start_equal_to_target_is_reached_or_not(direction: Direction, value: float, expected: float) -> None:
    kr = key_result(10, 10, direction=direction, values=(value,))
    assert figures.raw_progress(kr) == expected
    assert figures.progress(kr) == expected


@pytest.mark.parametrize("rollup", list(Rollup))
@pytest.mark.parametrize(("calculation", "direction", "start", "target", "lift", "expected_target", "raws"), TABLE)
def test_no_check_ins_means_no_value_and_no_progress(
    rollup: Rollup,
    calculation: CalculationType,
    direction: Direction,
    start: float,
    target: float,
    lift: float | None,
    expected_target: float,
    raws: dict[Rollup, float],
) -> None:
    kr = key_result(start, target, lift=lift, calculation=calculation, direction=direction, rollup=rollup)
    assert figures.current_value(kr) is None
    assert figures.raw_progress(kr) == 0.0
    assert figures.progress(kr) == 0.0
    assert figures.target_of(kr) == pytest.approx(expected_target)
    assert figures.projected_value(kr, cycle()) is None
    assert figures.projected_completion(kr, cycle()) is None


@pytest.mark.parametrize(
    ("kr", "target", "raw"),
    [
        # +10 % of -200 improves it: -180, and -190 is halfway.
        (key_result(-200, lift=10, calculation=P, direction=UP, values=(-190,)), -180, 0.5),
        # -10 % of -200 is -220, and -210 is halfway.
        (key_result(-200, lift=10, calculation=P, direction=DOWN, values=(-210,)), -220, 0.5),
        (key_result(-50, -10, direction=UP, values=(-30,)), -10, 0.5),
        (key_result(-50, -10, direction=UP, values=(-70,)), -10, -0.5),
        (key_result(0, -20, direction=DOWN, rollup=Rollup.SUM, values=(-5, -5)), -20, 0.5),
        (key_result(-5, lift=10, calculation=L, direction=UP, rollup=Rollup.MIN, values=(0, -3, 10)), 5, 0.2),
        (key_result(10, 20, direction=UP, rollup=Rollup.AVERAGE, values=(-10, 30)), 20, -0.0),
    ],
)
def test_negative_values(kr: KeyResult, target: float, raw: float) -> None:
    assert figures.target_of(kr) == pytest.approx(target)
    assert figures.raw_progress(kr) == pytest.approx(raw)
    assert figures.progress(kr) == pytest.approx(max(0.0, raw))


def test_counter_metrics_are_excluded_from_objective_progress_and_flagged_when_worse() -> None:
    growth = key_result(0, 100, values=(50,))
    churn_guard = key_result(2, 2, direction=DOWN, counter=True, values=(3,))
    assert figures.counter_metric_worse(churn_guard) is True
    assert figures.counter_metric_worse(key_result(2, 2, direction=DOWN, counter=True, values=(1.5,))) is False
    assert figures.counter_metric_worse(key_result(2, 2, direction=DOWN, counter=True)) is False
    assert figures.counter_metric_worse(growth) is False
    assert figures.objective_progress([growth, churn_guard]) == 0.5
    assert figures.objective_progress([churn_guard]) == 0.0


def test_objective_progress_is_the_weighted_mean() -> None:
    krs = [key_result(0, 100, values=(100,), weight=3), key_result(0, 100, values=(20,), weight=1)]
    assert figures.objective_progress(krs) == pytest.approx((1.0 * 3 + 0.2) / 4)
    assert figures.objective_progress([]) == 0.0


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 9, 1), 0.0),
        (dt.date(2026, 10, 1), 0.0),
        (dt.date(2026, 11, 15), 45 / 91),
        (dt.date(2026, 12, 31), 1.0),
        (dt.date(2027, 2, 1), 1.0),
    ],
)
def test_expected_progress_is_the_elapsed_share_of_the_cycle(today: dt.date, expected: float) -> None:
    assert figures.expected_progress(cycle(), today) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("progress", "expected", "started", "health"),
    [
        (0.0, 0.0, False, Health.NOT_STARTED),
        (0.9, 0.5, False, Health.NOT_STARTED),
        (0.4, 0.5, True, Health.ON_TRACK),  # within 0.1 of expected
        (0.39, 0.5, True, Health.AT_RISK),
        (0.35, 0.5, True, Health.AT_RISK),  # exactly 70 % of expected
        (0.34, 0.5, True, Health.BEHIND),
        (0.0, 0.05, True, Health.ON_TRACK),
    ],
)
def test_health_against_expected_progress(progress: float, expected: float, started: bool, health: Health) -> None:
    assert figures.health(progress, expected, started) == health
    assert figures.HEALTH_COLORS[health] is not None


def at_day(day: float) -> dt.datetime:
    return dt.datetime.combine(CYCLE_START, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=day)


def test_projection_is_the_least_squares_line_through_the_check_ins() -> None:
    kr = key_result(0, 100)
    for day, value in ((10, 12.0), (20, 18.0), (30, 33.0)):
        fold_check_in(kr, cycle(), value, at_day(day))
    # Least squares through (10, 12), (20, 18), (30, 33): slope 1.05, intercept 0.
    assert figures.projected_value(kr, cycle()) == pytest.approx(1.05 * 91)
    # 100 / 1.05 = 95.2 days after the start: 2027-01-04.
    assert figures.projected_completion(kr, cycle()) == CYCLE_START + dt.timedelta(days=95)


def test_a_single_check_in_is_projected_from_the_start_value() -> None:
    kr = key_result(20, 120)
    fold_check_in(kr, cycle(), 30.0, at_day(10))
    assert figures.projected_value(kr, cycle()) == pytest.approx(20 + 91)
    assert figures.projected_completion(kr, cycle()) == CYCLE_START + dt.timedelta(days=100)


def test_projection_never_completes_when_moving_the_wrong_way() -> None:
    kr = key_result(100, 50, direction=DOWN)
    fold_check_in(kr, cycle(), 110.0, at_day(10))
    fold_check_in(kr, cycle(), 120.0, at_day(20))
    assert figures.projected_value(kr, cycle()) == pytest.approx(100 + 91)
    assert figures.projected_completion(kr, cycle()) is None


def test_a_reached_target_completes_on_the_check_in_that_reached_it() -> None:
    kr = key_result(0, 10)
    fold_check_in(kr, cycle(), 11.0, at_day(5.5))
    assert figures.projected_completion(kr, cycle()) == dt.date(2026, 10, 6)


def test_same_day_check_ins_give_no_line() -> None:
    kr = key_result(0, 10)
    fold_check_in(kr, cycle(), 3.0, at_day(5))
    fold_check_in(kr, cycle(), 4.0, at_day(5))
    assert figures.projected_value(kr, cycle()) is None


@pytest.mark.parametrize(
    ("frequency", "last", "due"),
    [
        (TrackingFrequency.WEEKLY, None, dt.date(2026, 10, 8)),
        (TrackingFrequency.WEEKLY, at_day(10), dt.date(2026, 10, 18)),
        (TrackingFrequency.DAILY, at_day(10), dt.date(2026, 10, 12)),
        (TrackingFrequency.MONTHLY, at_day(10), dt.date(2026, 11, 10)),
        (TrackingFrequency.QUARTERLY, None, dt.date(2026, 12, 31)),
    ],
)
def test_next_check_in_due(frequency: TrackingFrequency, last: dt.datetime | None, due: dt.date) -> None:
    kr = key_result(0, 10)
    kr.tracking_frequency = frequency
    if last is not None:
        fold_check_in(kr, cycle(), 1.0, last)
    assert figures.next_check_in_due(kr, cycle()) == due


# Properties -----------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(
    start=finite,
    target=finite,
    lift=st.floats(min_value=0, max_value=500),
    calculation=st.sampled_from(list(CalculationType)),
    direction=st.sampled_from(list(Direction)),
    a=finite,
    b=finite,
)
def test_progress_is_monotone_in_the_direction_of_improvement(
    start: float, target: float, lift: float, calculation: CalculationType, direction: Direction, a: float, b: float
) -> None:
    if direction == DOWN:
        a, b = -a, -b
    worse, better = (min(a, b), max(a, b)) if direction == UP else (max(a, b), min(a, b))
    # The target must lie on the side of improvement for "better" to mean "closer to it".
    if calculation == A:
        target = start + abs(target - start) if direction == UP else start - abs(target - start)
    low = key_result(start, target, lift=lift, calculation=calculation, direction=direction, values=(worse,))
    high = key_result(start, target, lift=lift, calculation=calculation, direction=direction, values=(better,))
    assert figures.progress(high) >= figures.progress(low)
    assert 0.0 <= figures.progress(low) <= 1.0


@given(
    st.lists(
        st.tuples(finite, finite, finite, st.floats(min_value=0.01, max_value=100), st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_objective_progress_lies_between_its_key_results(rows: list[tuple[float, float, float, float, bool]]) -> None:
    krs = [
        key_result(start, target, values=(value,), weight=weight, counter=counter)
        for start, target, value, weight, counter in rows
    ]
    counted = [figures.progress(kr) for kr in krs if not kr.counter_metric]
    result = figures.objective_progress(krs)
    if not counted:
        assert result == 0.0
    else:
        assert min(counted) - 1e-9 <= result <= max(counted) + 1e-9
