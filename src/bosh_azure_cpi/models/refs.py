"""Small references shared by the global config and cloud properties."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedIdentity:
    type: str  # SystemAssigned | UserAssigned
    user_assigned_identity_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityGroupRef:
    """A network security group by name; without a resource group it is looked up as the Ruby CPI does."""

    name: str
    resource_group_name: str = ""
