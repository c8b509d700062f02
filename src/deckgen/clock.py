"""Time limits for work done in this process (layout, drawing), by a repeating timer signal."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class Timeout(Exception):
    """The time limit of `time_limit` ran out."""


@dataclass
class Clock:
    """Whether the limit ran out."""

    expired: bool = False


@contextmanager
def time_limit(seconds: float) -> Iterator[Clock]:
    """Stop work that runs too long: Python code, which a timer signal interrupts.

    Libraries may swallow the exception (WeasyPrint does while it draws an SVG), so the signal
    repeats every second after the limit until one lands elsewhere; `expired` tells even if all
    were swallowed.
    """
    clock = Clock()
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield clock  # no timer signals on this platform or thread
        return

    def stop(_signum: int, _frame: object) -> None:
        clock.expired = True
        raise Timeout

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield clock
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
