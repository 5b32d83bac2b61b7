"""``info()``: the CPI API version and the stemcell formats this CPI accepts.

Arguments: none. Returns ``{"api_version": 2, "stemcell_formats": ["azure-vhd", "azure-light"]}``.
Touches no Azure API and imports no Azure SDK module. https://bosh.io/docs/cpi-api-v2-method/info/
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

    from bosh_azure_cpi.services.interfaces import Call

API_VERSION = 2
STEMCELL_FORMATS = ("azure-vhd", "azure-light")


def info(call: Call | None) -> dict[str, Any]:
    """Needs nothing from ``call``: the CLI answers ``info`` without loading the configuration."""
    return {"api_version": API_VERSION, "stemcell_formats": list(STEMCELL_FORMATS)}
