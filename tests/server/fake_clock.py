"""A clock tests move by hand: the scheduler reads time from it instead of the system."""

from __future__ import annotations

import datetime as dt


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.current = now

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)
