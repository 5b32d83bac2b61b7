"""``delete_stemcell(stemcell_cid)``: drop a stemcell.

The CID's reference is removed from its gallery image version; the version is deleted with its last reference
(image definitions are kept); managed images of the stemcell and its blob are deleted. Deleting a stemcell that
is already gone succeeds (idempotent). https://bosh.io/docs/cpi-api-v2-method/delete-stemcell/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.services.interfaces import Call


def delete_stemcell(call: Call, stemcell_cid: str) -> None:
    call.services.stemcells.delete(StemcellCid.parse(stemcell_cid))
