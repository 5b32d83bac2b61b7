"""Service interfaces (typing.Protocol) that actions depend on, and the per-call ``Call`` bundle.

Implementations live beside this module and are built lazily by ``wiring``; tests pass fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bosh_azure_cpi.config import CpiConfig


class Services(Protocol):
    """The services an action may use; each is built on first access (so ``info`` builds none)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """What every action receives besides its wire arguments."""

    method: str
    api_version: int
    config: CpiConfig
    services: Services

    @property
    def v2(self) -> bool:
        """Whether the caller speaks CPI API v2 or later (array ``create_vm`` result, ``attach_disk`` hint)."""
        return self.api_version >= 2
