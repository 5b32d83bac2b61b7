"""Blob leases: a renewing lease holder, and ``BlobLock``, a lock that works across processes and hosts.

A lock is a lease on a small blob in the default storage account (container ``bosh-cpi-locks``). Every CPI process
on every host that shares the storage account sees the same lock; a process that dies without releasing it frees
the lock when its lease expires (``LEASE_SECONDS``) because renewal stops.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from bosh_azure_cpi.errors import CpiError, DeadlineExceeded
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.lro import azure_errors

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

logger = logging.getLogger(__name__)
LEASE_SECONDS = 60
RENEW_EVERY_SECONDS = 15.0
STOP_WAIT_SECONDS = 5.0
LOCK_CONTAINER = "bosh-cpi-locks"


class LeaseKeeper:
    """Renews a blob lease every ``period`` seconds from a background thread (``lease-renewal``) until ``stop()``.

    A renewal that fails after the SDK's retries ends the renewals: it is logged, kept in ``error`` and raised
    by ``check()``, so a holder that must not outlive its lease (a page-blob upload) can abort. ``stop()`` wakes
    the thread at once; it waits only for a renewal request already in flight (at most ``STOP_WAIT_SECONDS``).
    Usable as a context manager (start on enter, stop on exit).
    """

    def __init__(self, lease: BlobLeaseClient, what: str, period: float = RENEW_EVERY_SECONDS) -> None:
        self.lease = lease
        self.error: CpiError | None = None
        self._what = what
        self._period = period
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-renewal", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS)

    def check(self) -> None:
        """Raise the renewal failure, if there was one."""
        if self.error is not None:
            raise self.error

    def __enter__(self) -> LeaseKeeper:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopped.wait(self._period):
            try:
                with azure_errors(f"Renewing the lease on {self._what}"):
                    self.lease.renew()
            except CpiError as exc:  # the SDK already retried: the lease may lapse
                logger.warning("%s", exc.message)
                self.error = exc
                return


class BlobLock:
    """A named lock (``hold(name)``) made of leases on blobs in one container."""

    def __init__(
        self,
        container: ContainerClient,
        deadline: Deadline,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
        renew_every: float = RENEW_EVERY_SECONDS,
    ) -> None:
        self._container = container
        self._deadline = deadline
        self._sleep = sleep
        self._jitter = jitter
        self._renew_every = renew_every

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` for the duration of the block; waits (bounded by the deadline) while taken."""
        blob = self._lock_blob(name)
        lease = self._acquire(blob, name)
        keeper = LeaseKeeper(lease, f"lock '{name}'", self._renew_every).start()
        logger.debug("Holding lock '%s'", name)
        try:
            yield
        finally:
            keeper.stop()
            try:
                lease.release()
            except HttpResponseError as exc:
                logger.warning("Releasing lock '%s' failed (it expires in %ds): %s", name, LEASE_SECONDS, exc.message)

    def _lock_blob(self, name: str) -> BlobClient:
        with azure_errors(f"Preparing lock '{name}'"):
            with suppress(ResourceExistsError):
                self._container.create_container()
            blob = self._container.get_blob_client(name)
            try:
                blob.upload_blob(b"", overwrite=False, metadata={"purpose": "bosh-azure-cpi lock"})
            except ResourceExistsError:
                pass
            except HttpResponseError as exc:
                if getattr(exc, "error_code", "") != "LeaseIdMissing":
                    raise
        return blob

    def _acquire(self, blob: BlobClient, name: str) -> Any:
        waited, delay = 0.0, 0.5
        while True:
            with azure_errors(f"Acquiring lock '{name}'"):
                try:
                    return blob.acquire_lease(lease_duration=LEASE_SECONDS)
                except ResourceNotFoundError:
                    blob = self._lock_blob(name)
                    continue
                except HttpResponseError as exc:
                    if exc.status_code != 409:
                        raise
            if self._deadline.expired():
                raise DeadlineExceeded(f"Waiting for lock '{name}' did not finish within {waited:.0f}s")
            if waited == 0:
                logger.info("Lock '%s' is held by another CPI process; waiting", name)
            pause = min(self._jitter(delay / 2, delay), self._deadline.remaining())
            self._sleep(pause)
            waited += pause
            delay = min(delay * 2, 5.0)
