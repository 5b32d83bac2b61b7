"""The CPI's error tree, mirroring the BOSH Director's ``Bosh::Clouds`` error types.

Every error carries its wire ``type`` (what the Director maps, see cpi-protocol.md §4) and a truthful
``ok_to_retry``. The dispatcher renders them once, at the boundary; nothing else builds error envelopes.

::

    CpiError                      Bosh::Clouds::CpiError          bad request, bad config, bad input
    ├── InvalidArgument           Bosh::Clouds::CpiError          a CPI argument or cloud property is wrong
    ├── MethodNotImplemented      Bosh::Clouds::NotImplemented    method known but not implemented
    ├── NotSupported              Bosh::Clouds::NotSupported      Azure cannot do it (Director falls back)
    └── CloudError                Bosh::Clouds::CloudError        the IaaS failed (default for the unexpected)
        ├── AzureError            Bosh::Clouds::CloudError        an Azure request failed (code, request id)
        ├── DeadlineExceeded      Bosh::Clouds::CloudError        an operation outlived its deadline
        ├── VMNotFound            Bosh::Clouds::VMNotFound
        ├── NetworkNotFound       Bosh::Clouds::NetworkNotFound
        ├── StemcellNotFound      Bosh::Clouds::StemcellNotFound
        ├── DiskNotFound          Bosh::Clouds::DiskNotFound      (retriable family: ok_to_retry given)
        ├── DiskNotAttached       Bosh::Clouds::DiskNotAttached
        ├── NoDiskSpace           Bosh::Clouds::NoDiskSpace
        └── VMCreationFailed      Bosh::Clouds::VMCreationFailed  Director retries create_vm while ok_to_retry
"""

from __future__ import annotations


class CpiError(Exception):
    """Base of every error the CPI reports; ``message`` is one line, safe to show to operators."""

    wire_type = "Bosh::Clouds::CpiError"
    default_ok_to_retry = False

    def __init__(self, message: str, *, ok_to_retry: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ok_to_retry = self.default_ok_to_retry if ok_to_retry is None else ok_to_retry

    def with_context(self, context: str) -> CpiError:
        """Return a copy of this error (same type and retry flag) whose message starts with ``context``."""
        clone = type(self).__new__(type(self))
        CpiError.__init__(clone, f"{context}: {self.message}", ok_to_retry=self.ok_to_retry)
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("message", "ok_to_retry")})
        return clone


class InvalidArgument(CpiError):
    """A CPI argument, cloud property or configuration key is missing or has a wrong value."""


class MethodNotImplemented(CpiError):
    wire_type = "Bosh::Clouds::NotImplemented"


class NotSupported(CpiError):
    wire_type = "Bosh::Clouds::NotSupported"


class CloudError(CpiError):
    wire_type = "Bosh::Clouds::CloudError"


class AzureError(CloudError):
    """An Azure request failed; carries Azure's error code, HTTP status and request id when known."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        request_id: str = "",
        ok_to_retry: bool | None = None,
    ) -> None:
        super().__init__(message, ok_to_retry=ok_to_retry)
        self.code = code
        self.status = status
        self.request_id = request_id


class DeadlineExceeded(CloudError):
    """An operation did not finish before its deadline; retrying later may succeed."""

    default_ok_to_retry = True


class VMNotFound(CloudError):
    wire_type = "Bosh::Clouds::VMNotFound"


class NetworkNotFound(CloudError):
    wire_type = "Bosh::Clouds::NetworkNotFound"


class StemcellNotFound(CloudError):
    wire_type = "Bosh::Clouds::StemcellNotFound"


class DiskNotFound(CloudError):
    wire_type = "Bosh::Clouds::DiskNotFound"


class DiskNotAttached(CloudError):
    wire_type = "Bosh::Clouds::DiskNotAttached"


class NoDiskSpace(CloudError):
    wire_type = "Bosh::Clouds::NoDiskSpace"


class VMCreationFailed(CloudError):
    wire_type = "Bosh::Clouds::VMCreationFailed"


WIRE_TYPES = frozenset(
    cls.wire_type
    for cls in (
        CpiError,
        MethodNotImplemented,
        NotSupported,
        CloudError,
        VMNotFound,
        NetworkNotFound,
        StemcellNotFound,
        DiskNotFound,
        DiskNotAttached,
        NoDiskSpace,
        VMCreationFailed,
    )
)
"""Every wire type this CPI may send; all are known to the Director (StemcellNotFound to bosh-cli only)."""


class Terminated(BaseException):
    """The process received SIGTERM. A BaseException, so ``except Exception`` blocks let it pass while cleanup
    code (``except BaseException``/``finally``) still runs; the dispatcher reports it as a retryable CloudError."""
