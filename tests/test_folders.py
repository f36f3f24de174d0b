"""HHSYNC_FOLDERS end to end: Hudu's folders as Halo FAQ lists (flat, lists, and switching)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.config import FolderLayout
from core.demo import build_demo
from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.emulators.seed import seed_small
from core.engine import Engine
from core.errors import ApiError
from core.faqlists import FAQLIST_REQUESTS_PER_PASS
from core.folders import place
from core.models import HuduFolder, NewFaqList, Status
from tests.cli_helpers import invoke_hhsync
from tests.conftest import EngineFactory, Loopback, halo_copies, hhsync_env
from tests.test_halo_client import emulator as halo_emulator
from tests.test_hudu_client import emulator_client

LONG_AGO = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ARTICLES = ("welcome", "vlans", "rules", "contacts", "backups")
FLAT_LISTS = {"Hudu/", "Hudu/Central KB", "Hudu/Acme"}
LISTS = {
    "Hudu/",
    "Hudu/Central KB/",
    "Hudu/Central KB/Central KB",
    "Hudu/Central KB/Network",
    "Hudu/Central KB/Network / Firewalls",
    "Hudu/Acme/",
    "Hudu/Acme/Acme",
    "Hudu/Acme/Procedures",
}


@pytest.fixture
def kb(hudu: HuduState) -> dict[str, int]:
    """A Central KB with nested folders (and an empty one) and a company with one folder; the
    Hudu ids. The articles were last edited long ago: an incremental pass does not list them."""
    acme = hudu.add_company("Acme")["id"]
    network = hudu.add_folder("Network")["id"]
    firewalls = hudu.add_folder("Firewalls", parent_folder_id=network)["id"]
    procedures = hudu.add_folder("Procedures", acme)["id"]
    hudu.add_folder("Empty", parent_folder_id=network)
    ids = {"acme": acme, "network": network, "firewalls": firewalls, "procedures": procedures}
    for key, name, company_id, folder_id in (
        ("welcome", "Welcome", None, None),
        ("vlans", "VLANs", None, network),
        ("rules", "Firewall rules", None, firewalls),
        ("contacts", "Acme contacts", acme, None),
        ("backups", "Backups", acme, procedures),
    ):
        ids[key] = hudu.add_article(
            name, "<p>…</p>", company_id, folder_id, created_at=LONG_AGO, updated_at=LONG_AGO
        )["id"]
    return ids


def tree(halo: HaloState) -> set[str]:
    """Every FAQ list by its path; a group ends with "/"."""
    return {_path(halo, f) for f in halo.faqlists.values()}


def _path(halo: HaloState, faqlist: dict[str, Any]) -> str:
    shown = halo.faqlist_json(faqlist)
    return str(shown["full_name"]) + ("/" if faqlist["is_group"] else "")


def list_of(halo: HaloState, hudu_id: int) -> str:
    """The path of the one FAQ list the article's one Halo copy is in."""
    (copy,) = halo_copies(halo, hudu_id)
    (entry,) = copy["faqlists"]
    return _path(halo, halo.faqlists[entry["id"]])


def list_id(halo: HaloState, third_party_id: str) -> int:
    (found,) = [f["id"] for f in halo.faqlists.values() if f["third_party_id"] == third_party_id]
    return int(found)


def faqlist_requests(halo: HaloState) -> int:
    return halo.log.count(path="/api/FAQLists")


async def engine_with(make_engine: EngineFactory, **settings: Any) -> Engine:
    engine = make_engine(**settings)
    await engine.open()
    return engine


async def test_flat_is_the_default_one_list_per_knowledge_base(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    engine = await engine_with(make_engine)

    summary = await engine.sync_now()

    assert summary.created == 5
    assert tree(halo) == FLAT_LISTS
    assert list_of(halo, kb["rules"]) == "Hudu/Central KB"
    assert list_of(halo, kb["backups"]) == "Hudu/Acme"
    assert not hudu.log.count(path="/api/v1/folders")  # folders are not read when flat


async def test_lists_gives_each_folder_a_list_named_by_its_path(
    make_engine: EngineFactory, halo: HaloState, kb: dict[str, int]
) -> None:
    engine = await engine_with(make_engine, hhsync_folders="lists")

    summary = await engine.sync_now()

    assert summary.created == 5
    assert tree(halo) == LISTS
    assert list_of(halo, kb["welcome"]) == "Hudu/Central KB/Central KB"
    assert list_of(halo, kb["vlans"]) == "Hudu/Central KB/Network"
    assert list_of(halo, kb["rules"]) == "Hudu/Central KB/Network / Firewalls"
    assert list_of(halo, kb["contacts"]) == "Hudu/Acme/Acme"
    assert list_of(halo, kb["backups"]) == "Hudu/Acme/Procedures"
    shown = {key: getattr(engine.record(kb[key]), "faqlist", None) for key in ARTICLES}
    assert shown == {
        "welcome": "Central KB",
        "vlans": "Central KB / Network",
        "rules": "Central KB / Network / Firewalls",
        "contacts": "Acme",
        "backups": "Acme / Procedures",
    }
    firewalls = halo.faqlist_json(halo.faqlists[list_id(halo, f"hudu:folder:{kb['firewalls']}")])
    assert (firewalls["level"], firewalls["group_name"], firewalls["grandparent_name"]) == (
        2,
        "Central KB",
        "Hudu",
    )

    halo.log.clear()
    again = await engine.sync_now()

    assert (again.created, again.updated, faqlist_requests(halo)) == (0, 0, 0)


async def test_a_folder_renamed_or_moved_in_hudu_renames_its_list_and_keeps_its_articles(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    engine = await engine_with(make_engine, hhsync_folders="lists")
    await engine.sync_now()
    network = list_id(halo, f"hudu:folder:{kb['network']}")
    firewalls = list_id(halo, f"hudu:folder:{kb['firewalls']}")
    articles = len(halo.articles)

    hudu.update_folder(kb["network"], name="Networking")
    halo.log.clear()
    renamed = await engine.sync_now()

    assert (renamed.full, renamed.created, renamed.updated) == (False, 0, 0)
    assert list_of(halo, kb["vlans"]) == "Hudu/Central KB/Networking"
    assert list_of(halo, kb["rules"]) == "Hudu/Central KB/Networking / Firewalls"
    assert list_id(halo, f"hudu:folder:{kb['network']}") == network
    assert halo.log.count("POST", "/api/FAQLists") == 1  # both renamed in one request

    hudu.update_folder(kb["firewalls"], parent_folder_id=None)
    await engine.sync_now()

    assert list_of(halo, kb["rules"]) == "Hudu/Central KB/Firewalls"
    assert list_id(halo, f"hudu:folder:{kb['firewalls']}") == firewalls
    assert len(halo.articles) == articles


async def test_an_article_moved_between_folders_moves_between_lists(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    engine = await engine_with(make_engine, hhsync_folders="lists")
    await engine.sync_now()
    (copy,) = halo_copies(halo, kb["vlans"])

    hudu.update_article(kb["vlans"], folder_id=kb["firewalls"])
    moved = await engine.sync_now()

    assert (moved.full, moved.updated) == (False, 1)
    assert list_of(halo, kb["vlans"]) == "Hudu/Central KB/Network / Firewalls"
    assert halo_copies(halo, kb["vlans"])[0]["id"] == copy["id"]
    assert "Hudu/Central KB/Network" in tree(halo)  # an incremental pass retires nothing

    full = await engine.sync_now(full=True)

    assert full.updated == 0
    assert "Hudu/Central KB/Network" not in tree(halo)
    assert "Hudu/Retired/Network" in tree(halo)  # left empty: retired, not deleted


async def test_switching_either_way_moves_every_article_and_retires_empty_lists(
    make_engine: EngineFactory, halo: HaloState, kb: dict[str, int]
) -> None:
    flat = await engine_with(make_engine)
    await flat.sync_now()
    central = list_id(halo, "hudu:central")
    copies = {kb[key]: halo_copies(halo, kb[key])[0]["id"] for key in ARTICLES}
    await flat.close()

    lists = await engine_with(make_engine, hhsync_folders="lists")
    to_lists = await lists.sync_now()  # asked for incremental: the layout changed, so full

    assert (to_lists.full, to_lists.created, to_lists.updated) == (True, 0, 3)
    assert tree(halo) == LISTS
    assert list_id(halo, "hudu:central") == central  # moved into its group, articles kept
    assert list_of(halo, kb["rules"]) == "Hudu/Central KB/Network / Firewalls"
    made = {f["id"] for f in halo.faqlists.values()}
    await lists.close()

    back = await engine_with(make_engine, hhsync_folders="flat")
    to_flat = await back.sync_now()

    assert (to_flat.full, to_flat.created, to_flat.updated) == (True, 0, 3)
    made.add(list_id(halo, "hudu:retired"))
    assert {f["id"] for f in halo.faqlists.values()} == made  # retired, never deleted
    assert tree(halo) == FLAT_LISTS | {
        "Hudu/Retired/",
        "Hudu/Retired/Central KB/",
        "Hudu/Retired/Network",
        "Hudu/Retired/Network / Firewalls",
        "Hudu/Retired/Acme/",
        "Hudu/Retired/Procedures",
    }
    assert list_of(halo, kb["rules"]) == "Hudu/Central KB"
    assert list_of(halo, kb["backups"]) == "Hudu/Acme"
    assert (await back.sync_now()).full is False  # the switch is done
    await back.close()

    again = await engine_with(make_engine, hhsync_folders="lists")
    await again.sync_now()

    assert {f["id"] for f in halo.faqlists.values()} == made  # the retired lists come back
    assert tree(halo) - {"Hudu/Retired/"} == LISTS
    assert {h: halo_copies(halo, h)[0]["id"] for h in copies} == copies


async def test_a_list_holding_an_article_is_not_retired(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    """An unlinked article's copy stays where it is, and so does its list."""
    engine = await engine_with(make_engine, hhsync_folders="lists")
    await engine.sync_now()
    await engine.unlink(kb["vlans"])

    hudu.update_article(kb["vlans"], folder_id=None)
    await engine.sync_now(full=True)

    assert list_of(halo, kb["vlans"]) == "Hudu/Central KB/Network"
    assert "Hudu/Central KB/Network" in tree(halo)


@pytest.mark.parametrize("third_party_id_kept", [True, False])
async def test_a_lost_mapping_file_finds_the_lists_again(
    make_engine: EngineFactory,
    halo: HaloState,
    kb: dict[str, int],
    tmp_path: Path,
    third_party_id_kept: bool,
) -> None:
    halo.ignore_faqlist_third_party_id = not third_party_id_kept
    first = await engine_with(make_engine, hhsync_folders="lists")
    await first.sync_now()
    made = {f["id"] for f in halo.faqlists.values()}
    await first.close()

    fresh = await engine_with(make_engine, hhsync_folders="lists", hhsync_db=tmp_path / "new.json")
    await fresh.sync_now()

    assert {f["id"] for f in halo.faqlists.values()} == made
    assert tree(halo) == LISTS
    assert fresh.faqlists.ids == first.faqlists.ids  # every folder's list is the one it had


async def test_faqlist_requests_per_pass_stay_bounded_however_many_folders(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    for company in range(4):
        company_id = hudu.add_company(f"Company {company}")["id"]
        for top in range(5):
            parent = hudu.add_folder(f"Folder {top}", company_id)["id"]
            child = hudu.add_folder("Sub", company_id, parent_folder_id=parent)["id"]
            for folder in (parent, child, None):
                hudu.add_article(f"Article {top} {folder}", company_id=company_id, folder_id=folder)
    lists = await engine_with(make_engine, hhsync_folders="lists")

    halo.log.clear()
    await lists.sync_now()
    assert len(halo.faqlists) == 1 + 4 * (1 + 1 + 10)
    assert faqlist_requests(halo) <= FAQLIST_REQUESTS_PER_PASS
    await lists.close()

    flat = await engine_with(make_engine)
    halo.log.clear()
    await flat.sync_now()
    assert faqlist_requests(halo) <= FAQLIST_REQUESTS_PER_PASS
    assert len([f for f in halo.faqlists.values() if _path(halo, f).startswith("Hudu/Retired")])


async def test_the_demo_shows_nested_folders_as_faq_lists(tmp_path: Path) -> None:
    demo = build_demo(tmp_path / "demo.json", articles=150, companies=3, latency=False)
    try:
        await demo.engine.open()
        await demo.engine.sync_now()
        shown = {r.faqlist for r in demo.engine.records() if r.faqlist}
    finally:
        await demo.engine.close()

    nested = {path for path in shown if path.count(" / ") == 2}  # a folder in a folder
    assert {"Central KB", "Central KB / Networking"} <= shown
    assert any(path.startswith("Central KB / ") for path in nested)
    assert any(not path.startswith("Central KB / ") for path in nested)  # in a company


@pytest.mark.parametrize(("value", "layout"), [("", "flat"), ("Lists", "lists"), ("flat", "flat")])
def test_doctor_reports_the_setting(
    loopback: Loopback, tmp_path: Path, value: str, layout: str
) -> None:
    server, _hudu, _halo = loopback
    env = hhsync_env(server, tmp_path, **({"HHSYNC_FOLDERS": value} if value else {}))

    result = invoke_hhsync(["doctor"], env, tmp_path)

    assert f"✓ HHSYNC_FOLDERS={layout}: " in result.stdout


def test_an_unknown_layout_stops_hhsync_naming_the_variable(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, _hudu, halo = loopback
    env = hhsync_env(server, tmp_path, HHSYNC_FOLDERS="tree")

    result = invoke_hhsync(["sync"], env, tmp_path)

    assert result.returncode == 2
    assert "HHSYNC_FOLDERS" in result.stderr + result.stdout
    assert "HHSYNC_FOLDERS=flat  (or lists)" in result.stderr + result.stdout
    assert not halo.log.entries


async def test_where_groups_do_not_nest_each_knowledge_base_group_is_at_the_top(
    make_engine: EngineFactory, halo: HaloState, kb: dict[str, int]
) -> None:
    halo.faqlist_groups_nest = False
    first = await engine_with(make_engine, hhsync_folders="lists")

    summary = await first.sync_now()

    assert (summary.created, summary.failed) == (5, 0)
    posts = halo.log.matching("POST", "/api/FAQLists")
    assert [r.status for r in posts].count(400) == 1  # refused once, then adapted
    assert tree(halo) == {
        "Hudu/",
        "Hudu: Central KB/",
        "Hudu: Central KB/Central KB",
        "Hudu: Central KB/Network",
        "Hudu: Central KB/Network / Firewalls",
        "Hudu: Acme/",
        "Hudu: Acme/Acme",
        "Hudu: Acme/Procedures",
    }
    assert list_of(halo, kb["rules"]) == "Hudu: Central KB/Network / Firewalls"
    await first.close()

    halo.log.clear()
    flat = await engine_with(make_engine, hhsync_folders="flat")  # it remembers: no new refusal
    await flat.sync_now()

    statuses = [r.status for r in halo.log.matching("POST", "/api/FAQLists")]
    assert statuses and set(statuses) == {200}
    assert list_of(halo, kb["rules"]) == "Hudu/Central KB"
    assert {"Hudu: Retired/", "Hudu: Retired/Network / Firewalls"} <= tree(halo)
    assert "Hudu: Central KB/" in tree(halo)  # an empty group stays where it is


async def test_a_new_process_asks_nothing_while_nothing_changed_and_follows_a_rename(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    """What the lists look like is kept in the mapping file: `hhsync sync` from cron."""
    first = await engine_with(make_engine, hhsync_folders="lists")
    await first.sync_now()
    await first.close()

    halo.log.clear()
    second = await engine_with(make_engine, hhsync_folders="lists")
    await second.sync_now()
    await second.close()
    assert faqlist_requests(halo) == 0

    hudu.update_folder(kb["firewalls"], name="Perimeter")
    third = await engine_with(make_engine, hhsync_folders="lists")
    await third.sync_now()

    assert list_of(halo, kb["rules"]) == "Hudu/Central KB/Network / Perimeter"


@pytest.mark.parametrize(
    ("layout", "path"), [("flat", "Hudu/Central KB"), ("lists", "Hudu/Central KB/Central KB")]
)
async def test_the_probe_puts_its_list_where_the_layout_wants_it(
    make_engine: EngineFactory, halo: HaloState, kb: dict[str, int], layout: str, path: str
) -> None:
    engine = await engine_with(make_engine, hhsync_folders=layout)

    await engine.probe()
    central = list_id(halo, "hudu:central")
    assert _path(halo, halo.faqlists[central]) == path

    await engine.sync_now()

    assert list_of(halo, kb["welcome"]) == path
    assert list_id(halo, "hudu:central") == central


def test_doctor_warns_about_folder_lists_shown_to_all_users(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, _hudu, halo = loopback
    hudu_group = halo.add_faqlist("Hudu", is_group=True, third_party_id="hudu:group")["id"]
    central = halo.add_faqlist(
        "Central KB", is_group=True, group_id=hudu_group, third_party_id="hudu:group:central"
    )["id"]
    for name, shown in (("Central KB", True), ("Network / Firewalls", True), ("VPN", False)):
        halo.add_faqlist(name, group_id=central, showforall=shown)
    env = hhsync_env(server, tmp_path, HHSYNC_FOLDERS="lists")

    doctor = invoke_hhsync(["doctor"], env, tmp_path).stdout

    assert "! FAQ list 'Network / Firewalls' has 'Show for all users'" in doctor
    assert "! FAQ list 'Central KB' has 'Show for all users'" in doctor
    assert "'VPN' has" not in doctor


async def test_a_folder_name_reaches_halo_without_control_characters(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    hudu.update_folder(kb["network"], name="Net\x1b[2J\u202eworks\n")
    engine = await engine_with(make_engine, hhsync_folders="lists")

    await engine.sync_now()

    assert list_of(halo, kb["rules"]) == "Hudu/Central KB/Net [2Jworks / Firewalls"


@pytest.mark.parametrize(
    ("layout", "lists"),
    [("flat", {"Hudu/Acme Ltd"}), ("lists", {"Hudu/Acme Ltd/", "Hudu/Acme Ltd/Acme Ltd"})],
)
async def test_a_company_renamed_in_hudu_renames_its_lists(
    make_engine: EngineFactory,
    hudu: HuduState,
    halo: HaloState,
    kb: dict[str, int],
    layout: str,
    lists: set[str],
) -> None:
    engine = await engine_with(make_engine, hhsync_folders=layout)
    await engine.sync_now()
    made = len(halo.faqlists)

    hudu.update_company(kb["acme"], name="Acme Ltd")
    summary = await engine.sync_now()

    assert (summary.full, summary.updated, len(halo.faqlists)) == (False, 0, made)
    assert lists <= tree(halo)
    assert not {path for path in tree(halo) if "Acme/" in path or path.endswith("Acme")}


async def test_a_company_renamed_in_hudu_renames_its_rows_in_an_incremental_pass(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    """Its articles were not edited, so Hudu lists none of them as changed: the company's
    articles are listed again (one page), their rows show the new name, in the mapping file
    too, and no Halo article is written."""
    engine = await engine_with(make_engine)
    await engine.sync_now()
    hudu.update_company(kb["acme"], name="Acme Ltd")
    hudu.log.entries.clear()
    halo_writes = len(halo.log.writes("/api/KBArticle"))

    summary = await engine.sync_now()

    assert not summary.full
    acme_rows = [r for r in engine.records() if r.company_id == kb["acme"]]
    assert {r.scope for r in acme_rows} == {"Acme Ltd"} and len(acme_rows) == 2
    assert len(halo.log.writes("/api/KBArticle")) == halo_writes
    by_company = [e for e in hudu.log.entries if "company_id" in e.query]
    assert len(by_company) == 1
    await engine.close()
    reopened = await engine_with(make_engine)
    assert {r.scope for r in reopened.records() if r.company_id == kb["acme"]} == {"Acme Ltd"}
    hudu.log.entries.clear()
    await reopened.sync_now()  # nothing shown otherwise now: no listing by company
    assert not [e for e in hudu.log.entries if "company_id" in e.query]
    await reopened.close()


async def test_a_company_renamed_out_of_hhsync_companies_leaves_scope_in_an_incremental_pass(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState, kb: dict[str, int]
) -> None:
    """HHSYNC_COMPANIES names it no more: its articles are out of scope at once, not at the
    next full pass (their Halo copies left as they are, as for any article leaving scope)."""
    engine = await engine_with(make_engine, hhsync_companies="Acme")
    await engine.sync_now()
    acme = {kb["contacts"], kb["backups"]}
    assert all(r.status is Status.SYNCED for r in engine.records() if r.hudu_id in acme)

    hudu.update_company(kb["acme"], name="Acme Ltd")
    summary = await engine.sync_now()

    assert not summary.full
    rows = [r for r in engine.records() if r.hudu_id in acme]
    assert all(r.status is Status.SKIPPED for r in rows)
    assert all(r.reason.startswith("out of scope") for r in rows)
    hudu.update_company(kb["acme"], name="Acme")  # back in
    await engine.sync_now()
    assert all(r.status is Status.SYNCED for r in engine.records() if r.hudu_id in acme)
    await engine.close()


@pytest.mark.slow
def test_switching_with_the_headless_command(loopback: Loopback, tmp_path: Path) -> None:
    """`hhsync sync` after the setting changed: a dry run says what would move and writes
    nothing; the real pass moves the folder articles and says so."""
    server, hudu, halo = loopback
    seed = seed_small(hudu)
    flat = hhsync_env(server, tmp_path)
    assert invoke_hhsync(["sync"], flat, tmp_path).returncode == 0
    in_folders = {i for i in seed.published_ids if hudu.articles[i].folder_id is not None}
    lists = {**flat, "HHSYNC_FOLDERS": "lists"}

    writes = len(halo.log.writes("/api"))
    dry = json.loads(invoke_hhsync(["sync", "--dry-run", "--json"], lists, tmp_path).stdout)
    assert len(halo.log.writes("/api")) == writes

    done = invoke_hhsync(["sync", "--json"], lists, tmp_path)
    summary = json.loads(done.stdout)

    assert done.returncode == 0, done.stderr
    assert (summary["full"], summary["created"], summary["failed"]) == (True, 0, 0)
    assert summary["updated"] == dry["updated"] >= len(in_folders) > 0
    vpn = next(i for i in in_folders if hudu.articles[i].name.startswith("VPN setup"))
    assert list_of(halo, vpn) == "Hudu/Central KB/Networking / Remote access"


@pytest.mark.parametrize(
    ("layout", "nest", "seen"),
    [("flat", True, None), ("lists", True, "accepted"), ("lists", False, "refused")],
)
async def test_the_probe_tells_whether_groups_nest_with_lists(
    make_engine: EngineFactory, halo: HaloState, layout: str, nest: bool, seen: str | None
) -> None:
    halo.faqlist_groups_nest = nest
    engine = await engine_with(make_engine, hhsync_folders=layout)

    report = await engine.probe()

    facts = {fact.key: fact for fact in report.profile.facts}
    assert (facts["faqlist_nesting"].seen if "faqlist_nesting" in facts else None) == seen
    assert not [f for f in halo.faqlists.values() if halo.faqlist_json(f)["level"] > 2]


async def test_the_hudu_client_lists_every_article_folder_over_pages(hudu: HuduState) -> None:
    acme = hudu.add_company("Acme")["id"]
    parent = hudu.add_folder("Network", acme)["id"]
    for n in range(120):
        hudu.add_folder(f"Site {n}", acme if n % 2 else None)
    async with emulator_client(hudu) as client:
        folders = await client.list_folders()

    assert len(folders) == 121
    assert hudu.log.count("GET", "/api/v1/folders") == 2
    assert all(r.query.get("folder_type") == "article" for r in hudu.log.matching("GET"))
    child = hudu.add_folder("Core", acme, parent_folder_id=parent)["id"]
    async with emulator_client(hudu) as client:
        (core,) = [f for f in (await client.list_folders()).values() if f.id == child]
    assert (core.name, core.company_id, core.parent_folder_id) == ("Core", acme, parent)


async def test_the_halo_emulator_refuses_a_group_inside_itself() -> None:
    state, client = halo_emulator()
    async with client as halo:
        outer = await halo.create_faqlist(
            "Outer", is_group=True, group_id=None, showforall=False, third_party_id="a"
        )
        inner = await halo.create_faqlist(
            "Inner", is_group=True, group_id=outer.id, showforall=False, third_party_id="b"
        )
        with pytest.raises(ApiError) as refused:
            await halo.save_faqlists([NewFaqList("Outer", True, inner.id, False, "a", id=outer.id)])
        (moved,) = await halo.save_faqlists([NewFaqList("Inside", False, inner.id, False, "c")])

    assert refused.value.status == 400 and "[0].group_id" in refused.value.message
    shown = state.faqlist_json(state.faqlists[moved.id])
    assert (shown["level"], shown["full_name"], shown["fullgroup_name"]) == (
        2,
        "Outer/Inner/Inside",
        "Outer/Inner",
    )


def test_placement_falls_back_to_the_knowledge_base_list_and_survives_a_folder_loop() -> None:
    folders = {
        1: HuduFolder(1, "Network", None, None),
        2: HuduFolder(2, "Acme only", 7, None),
        3: HuduFolder(3, "Loop A", None, 4),
        4: HuduFolder(4, "Loop B", None, 3),
    }

    def key_and_name(company_id: int | None, folder_id: int | None) -> tuple[str, str]:
        placed = place(
            FolderLayout.LISTS,
            scope_name="Central KB",
            scope_key="hudu:central",
            company_id=company_id,
            folder_id=folder_id,
            folders=folders,
        )
        return placed.key, placed.lists[placed.key].name

    assert key_and_name(None, 1) == ("hudu:folder:1", "Network")
    assert key_and_name(None, 2) == ("hudu:central", "Central KB")  # another knowledge base's
    assert key_and_name(None, 99) == ("hudu:central", "Central KB")  # not in Hudu's listing
    assert key_and_name(None, 3) == ("hudu:folder:3", "Loop B / Loop A")
