import pytest

from bosh_azure_cpi.errors import DeadlineExceeded
from bosh_azure_cpi.models.deadline import Deadline


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_counts_down_and_never_goes_negative():
    clock = Clock()
    deadline = Deadline(10, clock)
    clock.now += 4
    assert deadline.remaining() == 6
    clock.now += 20
    assert deadline.remaining() == 0 and deadline.expired()


def test_check_names_the_operation():
    clock = Clock()
    deadline = Deadline(5, clock)
    deadline.check("Creating VM 'x'")
    clock.now += 5
    with pytest.raises(DeadlineExceeded, match="Creating VM 'x' did not finish within 5s") as caught:
        deadline.check("Creating VM 'x'")
    assert caught.value.ok_to_retry


def test_sooner_picks_the_earlier_deadline():
    clock = Clock()
    deadline = Deadline(100, clock)
    assert deadline.sooner(500) is deadline
    assert deadline.sooner(10).remaining() == 10
