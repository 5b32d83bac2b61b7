"""Composition root: the only place services are built. Each service (and the Azure SDK modules it needs) is
built on first use, so a call only pays for what its action touches; ``info`` builds nothing."""

from __future__ import annotations

from functools import cached_property

from bosh_azure_cpi.config import CpiConfig


class AzureServices:
    """The production ``Services`` bundle for one call."""

    def __init__(self, config: CpiConfig, method: str) -> None:
        self.config = config
        self.method = method

    @cached_property
    def clients(self):  # type: ignore[no-untyped-def]
        from bosh_azure_cpi.services.clients import AzureClients  # noqa: PLC0415 - lazy SDK import

        return AzureClients(self.config.azure)


def build_services(config: CpiConfig, method: str) -> AzureServices:
    return AzureServices(config, method)
