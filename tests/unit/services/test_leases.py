"""BlobLock and LeaseKeeper against autospec'd blob clients, with injected sleep, jitter and clock."""

from __future__ import annotations

import logging
import threading
from typing import Any
from unittest.mock import create_autospec

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

from bosh_azure_cpi.errors import AzureError, DeadlineExceeded
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.leases import BlobLock, LeaseKeeper
from tests.fakes.pollers import FakeClock

NAME = "gallery/fake-gallery/fake-stemcell/1.0.0"
WAIT = 10.0  # safety net for waits on events; never reached when the code is right


def storage_error(status: int, code: str, kind: type[HttpResponseError] = HttpResponseError) -> HttpResponseError:
    error = kind(message=f"fake {code}")
    error.status_code = status
    error.error_code = code  # type: ignore[attr-defined]
    return error


def taken() -> HttpResponseError:
    return storage_error(409, "LeaseAlreadyPresent", ResourceExistsError)


class Lock:
    """A BlobLock over an autospec'd container whose sleeps advance a fake clock."""

    def __init__(self, seconds: float = 60, **kwargs: Any) -> None:
        self.clock = FakeClock()
        self.container = create_autospec(ContainerClient, instance=True)
        self.blob = create_autospec(BlobClient, instance=True)
        self.lease = create_autospec(BlobLeaseClient, instance=True)
        self.lease.id = "fake-lease-id"
        self.container.get_blob_client.return_value = self.blob
        self.blob.acquire_lease.return_value = self.lease
        self.sleeps: list[float] = []
        self.ranges: list[tuple[float, float]] = []
        self.lock = BlobLock(
            self.container, Deadline(seconds, self.clock), sleep=self.sleep, jitter=self.jitter, **kwargs
        )

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)

    def jitter(self, low: float, high: float) -> float:
        self.ranges.append((low, high))
        return high


def test_hold_creates_the_lock_blob_leases_it_and_releases_it() -> None:
    lock = Lock()
    lock.container.create_container.side_effect = ResourceExistsError("fake exists")
    lock.blob.upload_blob.side_effect = ResourceExistsError("fake exists")

    with lock.lock.hold(NAME):
        lock.lease.release.assert_not_called()

    lock.container.get_blob_client.assert_called_once_with(NAME)
    lock.blob.upload_blob.assert_called_once_with(b"", overwrite=False, metadata={"purpose": "bosh-azure-cpi lock"})
    lock.blob.acquire_lease.assert_called_once_with(lease_duration=60)
    lock.lease.release.assert_called_once_with()
    assert lock.sleeps == []


def test_an_existing_leased_lock_blob_is_fine() -> None:
    lock = Lock()
    lock.blob.upload_blob.side_effect = storage_error(412, "LeaseIdMissing")
    with lock.lock.hold(NAME):
        pass
    lock.lease.release.assert_called_once_with()


def test_hold_waits_with_jittered_growing_pauses_while_the_lock_is_taken(caplog: pytest.LogCaptureFixture) -> None:
    lock = Lock()
    lock.blob.acquire_lease.side_effect = [taken()] * 6 + [lock.lease]

    with caplog.at_level(logging.INFO, "bosh_azure_cpi.services.leases"), lock.lock.hold(NAME):
        pass

    assert lock.ranges == [(0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.5, 5.0), (2.5, 5.0)]
    assert lock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert caplog.messages.count(f"Lock '{NAME}' is held by another CPI process; waiting") == 1


def test_waiting_ends_with_deadline_exceeded_naming_the_lock() -> None:
    lock = Lock(seconds=3)
    lock.blob.acquire_lease.side_effect = taken()

    with pytest.raises(DeadlineExceeded, match=f"^Waiting for lock '{NAME}' did not finish within 3s$"):
        with lock.lock.hold(NAME):
            pytest.fail("the lock was never free")

    assert lock.sleeps == [0.5, 1.0, 1.5]  # the last pause ends at the deadline
    lock.lease.release.assert_not_called()


def test_a_vanished_lock_blob_is_recreated_without_waiting() -> None:
    lock = Lock()
    lock.blob.acquire_lease.side_effect = [ResourceNotFoundError("fake gone"), lock.lease]
    with lock.lock.hold(NAME):
        pass
    assert lock.blob.upload_blob.call_count == 2
    assert lock.sleeps == []


def test_other_errors_fail_at_once() -> None:
    lock = Lock()
    lock.blob.acquire_lease.side_effect = storage_error(403, "AuthorizationFailure")
    with pytest.raises(AzureError, match=f"Acquiring lock '{NAME}'"), lock.lock.hold(NAME):
        pass
    assert lock.sleeps == []


def test_the_lock_is_released_when_the_block_raises() -> None:
    lock = Lock()
    with pytest.raises(ValueError, match="fake failure"), lock.lock.hold(NAME):
        raise ValueError("fake failure")
    lock.lease.release.assert_called_once_with()


def test_a_failed_release_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    lock = Lock()
    lock.lease.release.side_effect = storage_error(409, "LeaseIdMismatchWithLeaseOperation")
    with caplog.at_level(logging.WARNING, "bosh_azure_cpi.services.leases"), lock.lock.hold(NAME):
        pass
    assert caplog.messages == [
        f"Releasing lock '{NAME}' failed (it expires in 60s): fake LeaseIdMismatchWithLeaseOperation"
    ]


def test_the_lease_is_renewed_while_held_and_renewal_stops_on_exit() -> None:
    lock = Lock(renew_every=0.001)
    renewed = threading.Event()
    lock.lease.renew.side_effect = lambda **_: renewed.set()

    with lock.lock.hold(NAME):
        assert renewed.wait(WAIT)

    assert not [thread for thread in threading.enumerate() if thread.name == "lease-renewal"]


# --- LeaseKeeper ------------------------------------------------------------------------------------------------


def test_a_failed_renewal_is_kept_logged_and_ends_the_renewals(caplog: pytest.LogCaptureFixture) -> None:
    lease = create_autospec(BlobLeaseClient, instance=True)
    lease.renew.side_effect = storage_error(409, "LeaseIdMismatchWithLeaseOperation")
    keeper = LeaseKeeper(lease, "page blob fake.vhd", period=0.001)

    with caplog.at_level(logging.WARNING, "bosh_azure_cpi.services.leases"), keeper:
        keeper._thread.join(WAIT)  # ends by itself after the failure
        assert not keeper._thread.is_alive()
        with pytest.raises(AzureError, match="^Renewing the lease on page blob fake.vhd: fake LeaseIdMismatch"):
            keeper.check()

    lease.renew.assert_called_once_with()
    assert caplog.messages == ["Renewing the lease on page blob fake.vhd: fake LeaseIdMismatchWithLeaseOperation"]


def test_stop_does_not_wait_for_the_renewal_period() -> None:
    lease = create_autospec(BlobLeaseClient, instance=True)
    keeper = LeaseKeeper(lease, "lock 'fake'", period=3600).start()
    keeper.stop()  # would block for up to STOP_WAIT_SECONDS and leave the thread alive if it slept the period
    assert not keeper._thread.is_alive()
    lease.renew.assert_not_called()
    keeper.check()  # no failure to report
