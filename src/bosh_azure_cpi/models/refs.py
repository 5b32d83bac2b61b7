"""Small references shared by the global config and cloud properties."""

from __future__ import annotations

from dataclasses import dataclass

from bosh_azure_cpi.models.fields import Fields


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedIdentity:
    type: str  # SystemAssigned | UserAssigned
    user_assigned_identity_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityGroupRef:
    """A network security group by name; without a resource group it is looked up as the Ruby CPI does."""

    name: str
    resource_group_name: str = ""


def security_group_ref(f: Fields, name: str) -> SecurityGroupRef | None:
    """``name`` as an NSG name or ``{name, resource_group_name}``; None when absent; an empty name is an error."""
    value = f.raw(name)
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise f.fail(name, "cannot be an empty string (network security group name)")
        return SecurityGroupRef(name=value)
    group = f.obj(name)
    return SecurityGroupRef(name=group.nonempty("name"), resource_group_name=group.text("resource_group_name", ""))


def managed_identity(f: Fields) -> ManagedIdentity | None:
    """``{type: SystemAssigned|UserAssigned, user_assigned_identity_name}``; None when absent."""
    if not f.doc:
        return None
    kind = f.choice("type", ("SystemAssigned", "UserAssigned"))
    name = f.text("user_assigned_identity_name", "")
    if kind == "UserAssigned" and not name:
        raise f.fail("user_assigned_identity_name", "is required when type is 'UserAssigned'")
    return ManagedIdentity(type=kind, user_assigned_identity_name=name)
