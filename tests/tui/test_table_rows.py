"""`TableRows` keeps a table's rows in the order a full sort would give, whatever comes, goes,
changes or is filtered, and finds each row's position (plain Python, no terminal)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime

from core.models import ArticleRecord, Status
from tests.tui.fakes import FIXED, make_record
from tui.columns import columns_for, filter_words, haystack
from tui.sorting import SortOrder, key_maker
from tui.table_rows import TableRows

SPECS = columns_for(Status.SYNCED)


def now() -> datetime:
    return FIXED


def expected(rows: TableRows, records: dict[int, ArticleRecord], text: str) -> list[int]:
    """A full sort of the records the filter matches: what the rows must show."""
    words = filter_words(text)
    make = key_maker(rows.order, Status.SYNCED, now)
    shown = [r for r in records.values() if all(w in haystack(r) for w in words)]
    shown.sort(key=make)
    ids = [r.hudu_id for r in shown]
    return ids[::-1] if rows.order.descending else ids


def check(rows: TableRows, records: dict[int, ArticleRecord], text: str) -> None:
    want = expected(rows, records, text)
    assert list(rows.in_order()) == want
    assert [rows.id_at(n) for n in range(len(rows))] == want
    assert all(rows.index_of(str(i)) == n for n, i in enumerate(want))
    assert len(rows) == len(want) and all(str(i) in rows for i in want)


def test_rows_stay_in_order_through_ticks_filters_and_sorts() -> None:
    chance = random.Random(10)
    records = {i: make_record(i) for i in range(1, 200)}
    rows = TableRows(Status.SYNCED, SPECS, now)
    text = ""
    rows.fill(records.values(), [])
    check(rows, records, text)
    for step in range(40):
        move = chance.choice(["tick", "filter", "sort"])
        if move == "tick":
            for hudu_id in chance.sample(sorted(records), 25):
                if chance.random() < 0.2:
                    del records[hudu_id]
                    rows.remove(hudu_id)
                    continue
                record = replace(
                    records[hudu_id],
                    title=chance.choice(["VPN", "Printer", "Backup", "Zebra"]) + f" {step}",
                    scope=chance.choice(["Central KB", "Acme Corp", "Globex"]),
                )
                records[hudu_id] = record
                rows.put(record)
            for hudu_id in range(1000 + step * 3, 1003 + step * 3):  # new articles
                records[hudu_id] = make_record(hudu_id)
                rows.put(records[hudu_id])
        elif move == "filter":
            new_text = chance.choice(["", "vpn", "v", "acme", "vpn acme", "#1", "zebra", "p"])
            old_words, words = filter_words(text), filter_words(new_text)
            narrowing = bool(old_words) and all(any(o in n for n in words) for o in old_words)
            text = new_text
            # The dashboard fills from the rows `put` and `remove` kept (None); a restart
            # from the model must give the same rows.
            given = None if chance.random() < 0.7 else records.values()
            rows.fill(given, words, narrowing=narrowing)
        else:
            column = chance.choice([spec.key for spec in SPECS])
            rows.sort(SortOrder(column, chance.random() < 0.5))
        check(rows, records, text)


def test_marks_show_in_the_title_and_leave_with_the_row() -> None:
    records = [make_record(i) for i in range(1, 6)]
    rows = TableRows(Status.SYNCED, SPECS, now)
    rows.fill(records, [])
    rows.set_marks({2, 3, 99})
    assert rows.marked == {2, 3}
    assert rows.cells("2")[1].plain.startswith("● ")
    assert not rows.cells("1")[1].plain.startswith("● ")
    rows.remove(2)
    assert rows.marked == {3}
    rows.fill(records, filter_words("#4"))  # the filter hides 3: its mark goes
    assert rows.marked == set()
