"""The generic ARM resource store: records keyed by lower-cased resource id.

The store knows nothing about resource types beyond the lower-cased type key and the parent link. It is
not locked itself: the emulator serialises every ARM request (and every state accessor it offers to
tests) under one lock.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from arm_emulator.ids import parse_resource_id


@dataclass(slots=True)
class Record:
    """One stored resource.

    ``body`` is the resource as GET returns it before per-type rendering; ``meta`` holds emulator-private
    state (latest operation id, replication bookkeeping); ``etag`` counts writes.
    """

    id: str
    type_key: str
    body: dict[str, Any]
    subscription: str
    resource_group: str | None
    parent_key: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    etag: int = 1
    seq: int = 0

    @classmethod
    def create(cls, resource_id: str, body: dict[str, Any]) -> Record:
        """A new record for a top-level or nested resource id (type key, scope and parent from the id)."""
        path = parse_resource_id(resource_id)
        assert path is not None, resource_id
        parent = path.parent()
        return cls(
            id=resource_id,
            type_key=path.type_key,
            body=body,
            subscription=path.subscription,
            resource_group=path.resource_group,
            parent_key=parent.resource_id().lower() if parent is not None else None,
        )

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def name(self) -> str:
        return str(self.body.get("name", self.id.rsplit("/", 1)[-1]))

    @property
    def tags(self) -> dict[str, str]:
        tags = self.body.get("tags")
        return dict(tags) if isinstance(tags, dict) else {}

    def properties(self) -> dict[str, Any]:
        """The ``properties`` object, created when missing."""
        props = self.body.setdefault("properties", {})
        assert isinstance(props, dict)
        return props

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the body, safe to hand out."""
        return copy.deepcopy(self.body)


class ResourceStore:
    """Records by lower-cased id, kept in creation order."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._seq = itertools.count(1)

    def get(self, resource_id: str) -> Record | None:
        return self._records.get(resource_id.lower())

    def put(self, record: Record) -> None:
        """Insert or replace; a replaced record keeps its creation position."""
        old = self._records.get(record.key)
        record.seq = old.seq if old is not None else next(self._seq)
        self._records[record.key] = record

    def remove(self, resource_id: str) -> Record | None:
        return self._records.pop(resource_id.lower(), None)

    def remove_tree(self, resource_id: str) -> list[Record]:
        """Remove a record and everything whose id lies below it (children, resources of a group)."""
        prefix = resource_id.lower() + "/"
        doomed = [k for k in self._records if k == resource_id.lower() or k.startswith(prefix)]
        return [self._records.pop(k) for k in doomed]

    def children(self, parent_id: str, type_key: str | None = None) -> list[Record]:
        """Direct children of ``parent_id`` (optionally of one type), in creation order."""
        parent = parent_id.lower()
        found = [
            r for r in self._records.values() if r.parent_key == parent and (type_key is None or r.type_key == type_key)
        ]
        return sorted(found, key=lambda r: r.seq)

    def in_scope(
        self, subscription: str, resource_group: str | None = None, type_key: str | None = None
    ) -> list[Record]:
        """Records of a subscription (and resource group, and type), in creation order."""
        sub = subscription.lower()
        group = resource_group.lower() if resource_group is not None else None
        found = [
            r
            for r in self._records.values()
            if r.subscription.lower() == sub
            and (group is None or (r.resource_group or "").lower() == group)
            and (type_key is None or r.type_key == type_key)
        ]
        return sorted(found, key=lambda r: r.seq)

    def all(self) -> list[Record]:
        return sorted(self._records.values(), key=lambda r: r.seq)

    def clear(self) -> None:
        self._records.clear()
