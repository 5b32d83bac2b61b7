"""The blob backend behind the emulated storage accounts (Azurite, possibly through the fault proxy).

Storage accounts advertise ``primaryEndpoints.blob = <endpoint>/<account>/`` (path-style, as Azurite
serves them) and ``listKeys`` returns the key the backend knows for the account. Gallery image versions
made from a VHD blob are checked the way Compute does before it accepts the source: the blob exists, is
a page blob, and ends with a fixed-VHD footer whose virtual size is a whole number of MiB.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobClient

from arm_emulator.vhd import FIXED_DISK, FOOTER_SIZE, parse_footer

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BLOB_API_VERSION = "2025-11-05"  # newest blob API of Azurite 3.35.0
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A blob URL split into its parts; ``account_url`` is what a BlobServiceClient takes."""

    account: str
    container: str
    blob: str
    account_url: str


@dataclass(frozen=True, slots=True)
class VhdCheck:
    """Result of probing a VHD blob: ``problem`` is None when Compute would accept it; ``virtual_size``
    is the disk size in bytes from the footer (None when not probed); ``kind`` classifies the problem:
    ``missing``, ``not_page_blob``, ``not_vhd`` or ``unreachable``."""

    problem: str | None
    virtual_size: int | None = None
    kind: str = ""


def parse_blob_url(uri: str) -> BlobRef | None:
    """Split host-style (``https://acct.blob.core.windows.net/c/b``) or path-style
    (``http://127.0.0.1:10000/acct/c/b``) blob URLs; None when the URL names no blob."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    segs = [s for s in parts.path.split("/") if s]
    host = parts.hostname
    if ".blob." in host:
        account, base = host.split(".", 1)[0], f"{parts.scheme}://{parts.netloc}"
    elif len(segs) >= 1:
        account, segs = segs[0], segs[1:]
        base = f"{parts.scheme}://{parts.netloc}/{account}"
    else:
        return None
    if len(segs) < 2:
        return None
    return BlobRef(account=account, container=segs[0], blob="/".join(segs[1:]), account_url=base)


class StorageBackend:
    """Endpoint and account keys of the blob service, plus the VHD probe."""

    def __init__(self, endpoint: str | None, keys: Mapping[str, str] | None = None, verify_blobs: bool = True) -> None:
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.keys = {AZURITE_ACCOUNT: AZURITE_KEY, **dict(keys or {})}
        self.verify_blobs = verify_blobs and endpoint is not None

    def blob_endpoint(self, account: str) -> str:
        base = self.endpoint or "https://blob.invalid"
        return f"{base}/{account}/"

    def key_for(self, account: str) -> str:
        """The backend's key for ``account``; a stable made-up key for accounts it does not know."""
        if account in self.keys:
            return self.keys[account]
        return base64.b64encode(hashlib.sha512(account.encode()).digest()).decode()

    def check_vhd(self, ref: BlobRef) -> VhdCheck:
        """Probe the blob; never raises (network failures become a problem description)."""
        if not self.verify_blobs:
            return VhdCheck(None)
        credential = {"account_name": ref.account, "account_key": self.key_for(ref.account)}
        client = BlobClient(
            ref.account_url,
            ref.container,
            ref.blob,
            credential=credential,
            api_version=BLOB_API_VERSION,
            retry_total=0,
            connection_timeout=5,
            read_timeout=30,
        )
        uri = f"{ref.account_url}/{ref.container}/{ref.blob}"
        try:
            with client:
                props = client.get_blob_properties()
                if props.blob_type != "PageBlob":
                    text = f"The blob {uri} is not a page blob. Only page blobs are supported."
                    return VhdCheck(text, kind="not_page_blob")
                size = int(props.size)
                if size < FOOTER_SIZE:
                    return VhdCheck(_bad_cookie(ref, uri), kind="not_vhd")
                footer = client.download_blob(offset=size - FOOTER_SIZE, length=FOOTER_SIZE).readall()
        except ResourceNotFoundError:
            return VhdCheck(f"Source blob {uri} was not found. Please make sure the source exists.", kind="missing")
        except AzureError as exc:
            return VhdCheck(f"Source blob {uri} could not be accessed: {type(exc).__name__}.", kind="unreachable")
        problem = _footer_problem(ref, uri, footer, size)
        return VhdCheck(problem, None if problem else size - FOOTER_SIZE, "not_vhd" if problem else "")


def _bad_cookie(ref: BlobRef, uri: str) -> str:
    return (
        f"The specified cookie value in VHD footer indicates that disk '{ref.blob}' with blob {uri} is not "
        "a supported VHD. Disk is expected to have cookie value 'conectix'."
    )


def _footer_problem(ref: BlobRef, uri: str, data: bytes, blob_size: int) -> str | None:
    """Check a VHD footer: cookie, checksum, fixed disk type, virtual size in whole MiB matching the blob."""
    footer = parse_footer(data)
    if footer.cookie != b"conectix" or not footer.checksum_ok:
        return _bad_cookie(ref, uri)
    if footer.disk_type != FIXED_DISK:
        return f"Disk '{ref.blob}' with blob {uri} is not a fixed VHD. Only fixed VHDs are supported."
    if footer.current_size % MIB != 0 or footer.current_size + FOOTER_SIZE != blob_size:
        return (
            f"Disk '{ref.blob}' with blob {uri} has unsupported virtual size of {footer.current_size} bytes. "
            "The size must be a whole number (in MBs) and the blob must be the disk plus its 512-byte footer."
        )
    return None
