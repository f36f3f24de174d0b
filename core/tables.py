"""The mapping file's tables as plain dicts: what one journal line changes, and the checks a
loaded file passes before hhsync trusts it."""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.errors import StoreError
from core.models import ArticleRecord
from core.rowcodec import ARTICLE_ROWS, BadRow
from core.storage import REBUILD_HINT, Tables, unreadable_message

ARTICLES, FAQLISTS, RUNS, META = "articles", "faqlists", "runs", "meta"
SCHEMA_VERSION = 2
MAX_RUNS = 500
"""Passes kept in the `runs` table: the pass history (core.history)."""
META_DOC_ID = "1"
META_SCHEMA_KEY = "schema_version"
META_JOURNAL_KEY = "journal_seq"


def schema_of(data: Tables) -> Any:
    meta = data.get(META)
    row = meta.get(META_DOC_ID) if isinstance(meta, dict) else None
    return row.get(META_SCHEMA_KEY, 1) if isinstance(row, dict) else 1


def merge_faqlists(tables: Tables, lists: Mapping[str, int]) -> None:
    table = tables.setdefault(FAQLISTS, {})
    by_party = {row.get("third_party_id"): doc_id for doc_id, row in table.items()}
    next_id = max(map(int, table), default=0) + 1
    for third_party_id, halo_id in lists.items():
        doc_id = by_party.get(third_party_id)
        if doc_id is None:
            doc_id = str(next_id)
            next_id += 1
        table[doc_id] = {"third_party_id": third_party_id, "halo_id": halo_id}


def append_run(tables: Tables, run: dict[str, Any]) -> None:
    table = tables.setdefault(RUNS, {})
    ids = sorted(map(int, table))
    table[str((ids[-1] if ids else 0) + 1)] = run
    for old in ids[: max(0, len(ids) + 1 - MAX_RUNS)]:
        del table[str(old)]


def replay(path: Path, tables: Tables, entry: dict[str, Any]) -> None:
    """Apply one journal line to the tables read so far."""

    def bad() -> StoreError:
        return StoreError(unreadable_message(path, f"has a bad journal line (seq {entry['seq']})"))

    rows, removed = entry.get("articles", {}), entry.get("removed", [])
    meta, lists, run = entry.get("meta", {}), entry.get("faqlists", {}), entry.get("run")
    if not (isinstance(rows, dict) and isinstance(removed, list) and isinstance(meta, dict)):
        raise bad()
    if not isinstance(lists, dict) or not (run is None or isinstance(run, dict)):
        raise bad()
    if not all(type(h) is int for h in removed) or not all(type(v) is int for v in lists.values()):
        raise bad()
    articles = tables.setdefault(ARTICLES, {})
    for doc_id, row in rows.items():
        if not doc_id.isdigit() or not isinstance(row, dict):
            raise bad()
        articles[doc_id] = row
    for hudu_id in removed:
        articles.pop(str(hudu_id), None)
    if meta:
        table = tables.setdefault(META, {})
        table[META_DOC_ID] = {**table.get(META_DOC_ID, {}), **meta}
    if lists:
        merge_faqlists(tables, lists)
    if run is not None:
        append_run(tables, run)


def checked_json(values: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        checked: dict[str, Any] = json.loads(json.dumps(values))
        return checked
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} values must be plain JSON: {exc}") from None


def validate_layout(path: Path, data: Tables) -> None:
    """Refuse (with a one-line `StoreError`) a snapshot whose tables are not objects of
    objects, or that a newer hhsync wrote."""

    def bad(what: str) -> StoreError:
        return StoreError(unreadable_message(path, what))

    for name in (ARTICLES, FAQLISTS, RUNS, META):
        table = data.get(name)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise bad(f"has a {name!r} table that is not an object")
        for doc_id, row in table.items():
            if not doc_id.isdigit() or not isinstance(row, dict):
                raise bad(f"has a malformed row {doc_id!r} in the {name!r} table")

    meta = (data.get(META) or {}).get(META_DOC_ID, {})
    version = meta.get(META_SCHEMA_KEY, SCHEMA_VERSION)
    if type(version) is not int:
        raise bad(f"has a schema_version that is not a number ({version!r})")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer hhsync (schema {version}; this one knows "
            f"{SCHEMA_VERSION}): upgrade hhsync, or {REBUILD_HINT}"
        )


def validate(path: Path, data: Tables) -> dict[str, ArticleRecord]:
    """Refuse (with a one-line `StoreError`) anything this version cannot load faithfully;
    the article rows decoded (doc id → record: each row is decoded once at a load)."""

    def bad(what: str) -> StoreError:
        return StoreError(unreadable_message(path, what))

    records: dict[str, ArticleRecord] = {}
    for doc_id, row in (data.get(ARTICLES) or {}).items():
        try:
            record = ARTICLE_ROWS.decode(row)
        except BadRow as exc:
            raise bad(f"has a bad article row {doc_id}: {exc}") from None
        if "hudu_id" in row and record.hudu_id != int(doc_id):
            raise bad(f"has article row {doc_id} with hudu_id {record.hudu_id}")
        if "hudu_id" not in row:
            record.hudu_id = int(doc_id)
        records[doc_id] = record
    for doc_id, row in (data.get(FAQLISTS) or {}).items():
        if not isinstance(row.get("third_party_id"), str) or type(row.get("halo_id")) is not int:
            raise bad(f"has a bad FAQ list row {doc_id}")
    return records


def stored_articles(data: Tables, records: Mapping[str, ArticleRecord]) -> dict[str, Any]:
    """Turn the loaded articles table into the form the store holds (`RowCodec.stored`);
    returns the fields this version does not know (a newer hhsync's) of rows that have some."""
    table = data.get(ARTICLES)
    if not table:
        return {}
    names = ARTICLE_ROWS.names
    extras = {
        key: {k: v for k, v in row.items() if k not in names}
        for key, row in table.items()
        if not row.keys() <= names
    }
    data[ARTICLES] = {
        key: ARTICLE_ROWS.stored_json(row)
        if tuple(row) == ARTICLE_ROWS.ordered_names  # as this version writes it
        else ARTICLE_ROWS.stored(records[key])
        for key, row in table.items()
    }
    return extras


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file is loaded: every object its rows make is kept
    (nothing to find), and each collection would walk every object the process holds (half of
    a load's CPU at 20,000 rows)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def article_json(row: Any) -> Any:
    """A stored article row's JSON object (one with unknown fields is a dict already)."""
    return row if isinstance(row, dict) else ARTICLE_ROWS.json_of(row)
