"""FakeClock and FakePoller: long-running operations without threads or sleeping."""

from __future__ import annotations

from typing import Any


class FakeClock:
    """A monotonic clock that only moves when told (``advance``) or when a FakePoller waits on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakePoller:
    """An ``LROPoller`` stand-in: done after ``polls`` calls of ``wait``, each advancing ``clock`` by its timeout.

    ``result()`` returns ``result`` or raises ``error`` (as the SDK's poller does for a failed operation).
    """

    def __init__(
        self,
        result: Any = None,
        *,
        polls: int = 0,
        status: str = "InProgress",
        error: BaseException | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self._result = result
        self._polls = polls
        self._status = status
        self._error = error
        self._clock = clock
        self.timeouts: list[float | None] = []

    def done(self) -> bool:
        return len(self.timeouts) >= self._polls

    def wait(self, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)
        if self._clock is not None and timeout is not None:
            self._clock.advance(timeout)

    def status(self) -> str:
        if not self.done():
            return self._status
        return "Failed" if self._error is not None else "Succeeded"

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._result
