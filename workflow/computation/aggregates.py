"""Keeping a key result's stored check-in aggregates current, in O(1) per check-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, bindparam, case, or_, update

from workflow.computation.progress import day_offset
from workflow.models import Cycle, KeyResult


def fold_check_in(kr: KeyResult, cycle: Cycle, value: float, measured_at: dt.datetime) -> None:
    """Add one in-cycle check-in to the aggregates. `last_value` follows the latest measurement."""
    kr.checkin_count += 1
    kr.value_sum += value
    kr.value_min = value if kr.value_min is None else min(kr.value_min, value)
    kr.value_max = value if kr.value_max is None else max(kr.value_max, value)
    if kr.last_measured_at is None or measured_at >= kr.last_measured_at:
        kr.last_value = value
        kr.last_measured_at = measured_at
    t = day_offset(cycle, measured_at)
    kr.fit_count += 1
    kr.fit_sum_t += t
    kr.fit_sum_tt += t * t
    kr.fit_sum_v += value
    kr.fit_sum_tv += t * value


def reset_aggregates(kr: KeyResult) -> None:
    kr.checkin_count = 0
    kr.value_sum = 0.0
    kr.value_min = kr.value_max = kr.last_value = None
    kr.last_measured_at = None
    kr.fit_count = 0
    kr.fit_sum_t = kr.fit_sum_tt = kr.fit_sum_v = kr.fit_sum_tv = 0.0


def _folded_columns() -> dict[str, Any]:
    """`fold_check_in` as the SET clause of one UPDATE of the key result's row.

    Every right-hand side reads the row as it was before the statement (SQL's rule on both
    engines), so concurrent check-ins on one key result each add their share without a lock taken
    up front: the row is locked only from this statement to the commit.
    """
    kr = KeyResult
    value = bindparam("value", type_=Float)
    measured_at = bindparam("measured_at", type_=KeyResult.__table__.c.last_measured_at.type)
    latest = or_(kr.last_measured_at.is_(None), kr.last_measured_at <= measured_at)
    return {
        "checkin_count": kr.checkin_count + 1,
        "value_sum": kr.value_sum + value,
        "value_min": case((or_(kr.value_min.is_(None), kr.value_min > value), value), else_=kr.value_min),
        "value_max": case((or_(kr.value_max.is_(None), kr.value_max < value), value), else_=kr.value_max),
        "last_value": case((latest, value), else_=kr.last_value),
        "last_measured_at": case((latest, measured_at), else_=kr.last_measured_at),
        "fit_count": kr.fit_count + 1,
        "fit_sum_t": kr.fit_sum_t + bindparam("t", type_=Float),
        "fit_sum_tt": kr.fit_sum_tt + bindparam("tt", type_=Float),
        "fit_sum_v": kr.fit_sum_v + value,
        "fit_sum_tv": kr.fit_sum_tv + bindparam("tv", type_=Float),
    }


# Built once (every check-in runs it); executed with `fold_check_in_params`. Returns the folded row.
FOLD_CHECK_IN = (
    update(KeyResult)
    .where(KeyResult.id == bindparam("key_result_id"), KeyResult.removed.is_(False))
    .values(_folded_columns())
    .returning(KeyResult)
)


def fold_check_in_params(cycle: Cycle, key_result_id: int, value: float, measured_at: dt.datetime) -> dict[str, Any]:
    t = day_offset(cycle, measured_at)
    return {
        "key_result_id": key_result_id,
        "value": value,
        "measured_at": measured_at,
        "t": t,
        "tt": t * t,
        "tv": t * value,
    }
