"""Halo's customers ("clients", the spec's `Area` schema) as the emulator serves them.

`GET /api/Client` answers `{"record_count": n, "clients": [...]}`, the envelope HaloAPI reads
(ResourceType `clients`), paged with the same `pageinate`/`page_size`/`page_no` trio as KB
articles; `GET /api/Client/{id}` answers one client or 404. Only the spec's subset of `Area`
fields is ever answered. Which scope guards these paths is not documented: the emulator asks
for `read:customers` (HaloAPI's scope list names it), like every other scope it enforces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

READ_CUSTOMERS = "read:customers"
DEFAULT_PAGE_SIZE = 50

AREA_FIELDS = (
    "id",
    "name",
    "toplevel_id",
    "toplevel_name",
    "inactive",
    "colour",
    "website",
    "ref",
    "is_vip",
    "notes",
    "client_to_invoice",
    "customertype",
    "accountsid",
)


def new_client(
    client_id: int, name: str, *, inactive: bool, toplevel_id: int | None
) -> dict[str, Any]:
    """A client as the tenant stores it (every answered field is one of `AREA_FIELDS`)."""
    return {
        "id": client_id,
        "name": name,
        "toplevel_id": toplevel_id,
        "toplevel_name": "Top Level" if toplevel_id else None,
        "inactive": inactive,
        "colour": None,
        "website": None,
        "ref": None,
        "is_vip": False,
        "notes": None,
        "client_to_invoice": None,
        "customertype": 0,
        "accountsid": None,
    }


def client_json(client: Mapping[str, Any]) -> dict[str, Any]:
    return {key: client.get(key) for key in AREA_FIELDS}


def client_listing(clients: Iterable[Mapping[str, Any]], query: Mapping[str, Any]) -> Any:
    """The answer to `GET /api/Client` for parsed `query` values (lower-case names).

    Inactive clients are left out unless `includeinactive`; `search` matches the name (any
    case); `count` caps the matches before paging; `record_count` counts what it left.
    """
    items = sorted(clients, key=lambda c: c["id"])
    include_inactive = query.get("includeinactive", False)
    include_active = query.get("includeactive", True)
    items = [c for c in items if (include_inactive if c.get("inactive") else include_active)]
    if search := (query.get("search") or "").strip().lower():
        items = [c for c in items if search in (c.get("name") or "").lower()]
    if "toplevel_id" in query:
        items = [c for c in items if c.get("toplevel_id") == query["toplevel_id"]]
    record_count, items = one_page(items, query)
    return {"record_count": record_count, "clients": [client_json(c) for c in items]}


def one_page(items: list[Any], query: Mapping[str, Any]) -> tuple[int, list[Any]]:
    """Halo's listing parameters: `count` caps the list, then `page_size` and `page_no`
    apply only with `pageinate=true`. Returns the record count and the page."""
    if (count := query.get("count")) and count > 0:
        items = items[:count]
    record_count = len(items)
    if query.get("pageinate"):
        size = max(1, query.get("page_size") or DEFAULT_PAGE_SIZE)
        page = max(1, query.get("page_no") or 1)
        items = items[(page - 1) * size : page * size]
    return record_count, items
