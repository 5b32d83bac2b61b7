"""List pages (``value`` + ``nextLink``) and ARM's generic resource listing with ``$filter``.

Paging: a page holds ``page_size`` items (``$top`` lowers it); ``nextLink`` is the same URL with
``$skiptoken=<offset>`` and is absent on the last page.

``GET /subscriptions/S[/resourceGroups/R]/resources`` returns ``{id, name, type, location, tags, …}`` of
tracked resources (nested ones like gallery image versions included). Supported ``$filter`` terms, joined
by ``and``: ``tagName eq 'X'`` (optionally ``and tagValue eq 'Y'``), ``resourceType eq|ne '…'``,
``name eq|ne '…'``, ``location eq|ne '…'``, ``resourceGroup eq|ne '…'``, ``substringof('v', name)``.
As documented for ARM, a tag filter cannot be combined with other terms, and rows matched by a tag filter
carry no ``tags``. Anything else is refused with 400 ``InvalidFilterInQueryString``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from arm_emulator import regions
from arm_emulator.store import Record
from arm_emulator.wire import ArmError, Reply, Request

_TERM = re.compile(r"^\s*([A-Za-z/]+)\s+(eq|ne)\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_SUBSTRINGOF = re.compile(r"^\s*substringof\(\s*'((?:[^']|'')*)'\s*,\s*(name|resourceGroup)\s*\)\s*$", re.I)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def page(items: list[dict[str, Any]], request: Request, page_size: int) -> Reply:
    """One page of ``items`` for ``request`` (reads ``$skiptoken`` and ``$top``)."""
    skip = _int_param(request, "$skiptoken", 0)
    size = min(page_size, _int_param(request, "$top", page_size)) or page_size
    body: dict[str, Any] = {"value": items[skip : skip + size]}
    if skip + size < len(items):
        pairs = [(k, v) for k, v in parse_qsl(request.raw_query, keep_blank_values=True) if k.lower() != "$skiptoken"]
        pairs.append(("$skiptoken", str(skip + size)))
        body["nextLink"] = f"{request.base_url}{request.path}?{urlencode(pairs, safe='$/,')}"
    return Reply(status=200, body=body)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ArmError(400, "InvalidQueryParameterValue", f"The value '{raw}' of '{name}' is not valid.")
    return int(raw)


@dataclass(frozen=True, slots=True)
class ResourceFilter:
    """A compiled ``$filter``: ``accepts(record)``; ``hides_tags`` when a tag term was used."""

    predicates: tuple[Callable[[Record], bool], ...]
    hides_tags: bool

    def accepts(self, record: Record) -> bool:
        return all(p(record) for p in self.predicates)


def compile_filter(text: str | None) -> ResourceFilter:
    if text is None or not text.strip():
        return ResourceFilter((), False)
    terms = _AND.split(text.strip())
    tag_terms = [t for t in terms if _field(t) in ("tagname", "tagvalue")]
    if tag_terms:
        if len(tag_terms) != len(terms):
            raise _bad_filter(text)
        return _tag_filter(text, terms)
    return ResourceFilter(tuple(_predicate(text, t) for t in terms), False)


def _field(term: str) -> str:
    match = _TERM.match(term)
    return match.group(1).lower() if match else ""


def _tag_filter(text: str, terms: list[str]) -> ResourceFilter:
    parsed = {m.group(1).lower(): m for m in (_TERM.match(t) for t in terms) if m}
    if len(parsed) != len(terms) or "tagname" not in parsed or any(m.group(2).lower() != "eq" for m in parsed.values()):
        raise _bad_filter(text)
    name = _unquote(parsed["tagname"].group(3))
    value = _unquote(parsed["tagvalue"].group(3)) if "tagvalue" in parsed else None

    def has_tag(record: Record) -> bool:
        for tag, tag_value in record.tags.items():
            if tag.lower() == name.lower() and (value is None or tag_value == value):
                return True
        return False

    return ResourceFilter((has_tag,), True)


def _predicate(text: str, term: str) -> Callable[[Record], bool]:
    sub = _SUBSTRINGOF.match(term)
    if sub:
        needle, field = _unquote(sub.group(1)).lower(), sub.group(2).lower()
        return lambda r: needle in _value_of(r, field).lower()
    match = _TERM.match(term)
    if not match or match.group(1).lower() not in ("resourcetype", "name", "location", "resourcegroup"):
        raise _bad_filter(text)
    field, negate, wanted = match.group(1).lower(), match.group(2).lower() == "ne", _unquote(match.group(3))
    if field == "location":
        return lambda r: (regions.normalize(_value_of(r, field)) == regions.normalize(wanted)) != negate
    return lambda r: (_value_of(r, field).lower() == wanted.lower()) != negate


def _value_of(record: Record, field: str) -> str:
    if field == "resourcetype":
        return str(record.body.get("type", ""))
    if field == "resourcegroup":
        return record.resource_group or ""
    return str(record.body.get(field, ""))


def _unquote(value: str) -> str:
    return value.replace("''", "'")


def _bad_filter(text: str) -> ArmError:
    return ArmError(400, "InvalidFilterInQueryString", f"Invalid $filter '{text}' specified in the query string.")


def generic_item(record: Record, hide_tags: bool, expand: str) -> dict[str, Any]:
    """The ``GenericResourceExpanded`` row of a record."""
    item: dict[str, Any] = {k: record.body[k] for k in ("id", "name", "type") if k in record.body}
    for key in ("sku", "kind", "location", "identity", "plan", "managedBy"):
        if key in record.body:
            item[key] = record.body[key]
    if record.tags and not hide_tags:
        item["tags"] = record.tags
    if "provisioningstate" in expand.lower():
        state = record.body.get("properties", {}).get("provisioningState")
        if state is not None:
            item["provisioningState"] = state
    return item
