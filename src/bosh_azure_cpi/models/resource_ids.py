"""ARM resource ids built from names (no lookup needed when the resource group is known)."""

from __future__ import annotations


def resource_id(subscription: str, group: str, provider_type: str, name: str, *children: str) -> str:
    """``/subscriptions/<s>/resourceGroups/<g>/providers/<Namespace/type>/<name>[/<child type>/<child name>...]``."""
    base = f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{provider_type}/{name}"
    return "/".join([base, *children])


def name_of(resource_id_: str) -> str:
    return resource_id_.rstrip("/").rsplit("/", 1)[-1]


def group_of(resource_id_: str) -> str:
    parts = resource_id_.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""
