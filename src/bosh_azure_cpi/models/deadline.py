"""A point in time by which an operation must finish; the clock is injected so tests never sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bosh_azure_cpi.errors import DeadlineExceeded


@dataclass(frozen=True, slots=True)
class Deadline:
    """``seconds`` from creation on ``clock``; ``remaining()`` never goes below zero."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            object.__setattr__(self, "started", self.clock())

    def remaining(self) -> float:
        return max(0.0, self.started + self.seconds - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def check(self, what: str) -> None:
        """Raise DeadlineExceeded naming ``what`` if the deadline has passed."""
        if self.expired():
            raise DeadlineExceeded(f"{what} did not finish within {self.seconds:.0f}s (deadline passed)")

    def sooner(self, seconds: float) -> Deadline:
        """A deadline that is the earlier of this one and ``seconds`` from now."""
        if seconds >= self.remaining():
            return self
        return Deadline(seconds, self.clock)
