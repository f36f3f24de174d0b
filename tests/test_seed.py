"""Seeders build what their summaries say, deterministically, and reject malformed files."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import (
    OVERSIZED_BYTES,
    SeedSummary,
    seed_customers,
    seed_demo,
    seed_from_file,
    seed_small,
)

KEY = "seed-key"


def check_summary(state: HuduState, summary: SeedSummary) -> None:
    """The summary's numbers agree with the state and with each other."""
    articles = [state.articles[i] for i in summary.article_ids]
    assert summary.articles == len(articles)
    assert summary.published + summary.drafts + summary.archived == summary.articles
    assert summary.published == len(summary.published_ids)
    assert summary.drafts == len(summary.draft_ids)
    assert summary.archived == len(summary.archived_ids)
    assert set(summary.published_ids) == {
        a.id for a in articles if not a.archived and a.draft is not True
    }
    assert summary.pdf_articles == len(summary.pdf_article_ids)
    for article_id in summary.pdf_article_ids:
        pdfs = [u for u in state.uploads.values() if u.uploadable_id == article_id]
        assert any(u.ext == "pdf" and u.mime == "application/pdf" for u in pdfs)
    oversized = [u for u in state.uploads.values() if u.size > OVERSIZED_BYTES]
    assert summary.oversized_files == len(oversized)
    if oversized:
        assert summary.oversized_article_id == oversized[0].uploadable_id


def check_links(state: HuduState) -> tuple[int, int]:
    """Every /kba/ and /public_photo/ reference resolves; returns how many of each."""
    slugs = {a.slug for a in state.articles.values()}
    kba = photos = 0
    for article in state.articles.values():
        for slug in re.findall(r'href="/kba/([0-9a-f]+)"', article.content):
            assert slug in slugs
            kba += 1
        for slug in set(re.findall(r"/public_photo/([0-9a-f]+)", article.content)):
            photo = state.photo_by_slug(slug)
            assert photo is not None
            assert photo.record_id == article.id
            photos += 1
    return kba, photos


# ---------------------------------------------------------------- small


@pytest.fixture
async def small() -> AsyncIterator[tuple[HuduState, SeedSummary, httpx.AsyncClient]]:
    state = HuduState(api_key=KEY)
    summary = seed_small(state)
    transport = httpx.ASGITransport(app=create_hudu_app(state))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hudu.test", headers={"x-api-key": KEY}
    ) as client:
        yield state, summary, client


async def test_seed_small_summary(small: tuple[HuduState, SeedSummary, httpx.AsyncClient]) -> None:
    state, summary, client = small
    check_summary(state, summary)
    assert summary.companies == 3
    assert 25 <= summary.articles <= 35
    assert (summary.drafts, summary.archived, summary.pdf_articles) == (2, 1, 1)
    assert summary.oversized_files == 1
    listed = (await client.get("/api/v1/articles", params={"page_size": 100})).json()["articles"]
    published = [a["id"] for a in listed if not a["archived"] and a["draft"] is not True]
    assert tuple(published) == summary.published_ids
    null_drafts = [a for a in listed if a["draft"] is None]
    assert len(null_drafts) == 1
    assert null_drafts[0]["id"] in summary.published_ids
    assert any(a["company_id"] is None for a in listed)
    assert {a["company_id"] for a in listed} >= set(summary.company_ids)


async def test_seed_small_files(small: tuple[HuduState, SeedSummary, httpx.AsyncClient]) -> None:
    state, summary, client = small
    uploads = (await client.get("/api/v1/uploads", params={"page_size": 100})).json()
    (pdf,) = [u for u in uploads if u["uploadable_id"] == summary.pdf_article_ids[0]]
    assert (pdf["ext"], pdf["mime"]) == ("pdf", "application/pdf")
    body = (await client.get(f"/api/v1/uploads/{pdf['id']}?download=true")).content
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    assert int(pdf["size"]) == len(body)
    (big,) = [u for u in uploads if u["uploadable_id"] == summary.oversized_article_id]
    assert int(big["size"]) > OVERSIZED_BYTES
    assert state.uploads[big["id"]].data is None
    shared = state.get_article(summary.shared_article_id or 0)
    assert shared["enable_sharing"] is True
    assert shared["share_url"]
    assert any(u["uploadable_id"] == shared["id"] for u in uploads)


def test_seed_small_content() -> None:
    state = HuduState()
    summary = seed_small(state)
    hostile = state.articles[summary.hostile_article_id or 0].content
    for piece in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">',
        "<iframe",
    ):
        assert piece in hostile
    kba, photos = check_links(state)
    assert kba >= 3
    assert photos >= 2
    assert "{" not in "".join(a.content for a in state.articles.values() if "kba:" in a.content)


# ---------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo() -> tuple[HuduState, SeedSummary]:
    state = HuduState()
    return state, seed_demo(state)


def test_seed_demo_shape(demo: tuple[HuduState, SeedSummary]) -> None:
    state, summary = demo
    check_summary(state, summary)
    assert summary.companies == 30
    assert summary.articles == 2000
    assert 0.02 <= summary.drafts / summary.articles <= 0.04
    assert 0.005 <= summary.archived / summary.articles <= 0.02
    assert 10 <= summary.pdf_articles <= 20
    assert summary.oversized_files == 1
    assert summary.oversized_article_id in summary.published_ids
    assert summary.hostile_article_id in summary.published_ids
    names = [c.name for c in state.companies.values()]
    assert len(set(names)) == 30
    assert "Northwind Dental" in names
    central = [a for a in state.articles.values() if a.company_id is None]
    assert 100 <= len(central) <= 600
    assert any(a.draft is None for a in state.articles.values())
    sizes = sorted(len(a.content) for a in state.articles.values())
    assert sizes[0] < 1_000 < 10_000 < sizes[-1]
    kba, photos = check_links(state)
    assert kba >= 5
    assert photos >= 100
    assert any("<table>" in a.content for a in state.articles.values())
    assert any("<pre><code>" in a.content for a in state.articles.values())
    for article_id in summary.pdf_article_ids:
        assert state.articles[article_id].name.endswith(".pdf")


def test_seed_demo_is_deterministic(demo: tuple[HuduState, SeedSummary]) -> None:
    state, summary = demo
    again = HuduState()
    assert seed_demo(again) == summary

    def fingerprint(s: HuduState) -> list[tuple[Any, ...]]:
        return [(a.name, a.content, a.company_id, a.draft) for a in s.articles.values()]

    assert fingerprint(again) == fingerprint(state)
    other = HuduState()
    seed_demo(other, rng_seed=8)
    assert fingerprint(other) != fingerprint(state)


def test_seed_demo_scales_down() -> None:
    state = HuduState()
    summary = seed_demo(state, companies=40, articles=120, rng_seed=3)
    check_summary(state, summary)
    assert (summary.companies, summary.articles) == (40, 120)
    assert len({c.name for c in state.companies.values()}) == 40
    assert summary.pdf_articles >= 1
    assert summary.archived >= 1


# ---------------------------------------------------------------- from a file


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "dataset.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


GOOD: dict[str, Any] = {
    "companies": [{"name": "Acme Dental"}, {"name": "Old Client", "archived": True}],
    "articles": [
        {"name": "VPN setup", "content": "<p>Steps</p>", "folder": "Networking"},
        {
            "name": "Reception PC",
            "company": "Acme Dental",
            "folder": "Procedures",
            "photos": ["desk.png"],
        },
        {"name": "Policy.pdf", "uploads": [{"name": "Policy.pdf", "text": "Line 1\nLine 2"}]},
        {"name": "Half done", "draft": True},
        {"name": "Legacy", "draft": None, "archived": False, "enable_sharing": True},
        {"name": "Retired", "archived": True, "company": "Acme Dental"},
        {
            "name": "Files",
            "uploads": [
                {"name": "notes.txt", "text": "hello"},
                {"name": "logo.png", "base64": base64.b64encode(b"\x89PNG").decode()},
                {"name": "huge.zip", "size": 31_457_280, "mime": "application/zip"},
            ],
        },
    ],
}


def test_seed_from_file(tmp_path: Path) -> None:
    state = HuduState()
    summary = seed_from_file(state, write(tmp_path, GOOD))
    check_summary(state, summary)
    assert (summary.companies, summary.articles) == (2, 7)
    assert (summary.drafts, summary.archived, summary.published) == (1, 1, 5)
    assert (summary.pdf_articles, summary.oversized_files) == (1, 1)
    acme = next(c for c in state.companies.values() if c.name == "Acme Dental")
    reception = next(a for a in state.articles.values() if a.name == "Reception PC")
    assert reception.company_id == acme.id
    assert state.folders[reception.folder_id or 0].company_id == acme.id
    assert check_links(state) == (0, 1)
    pdf = next(u for u in state.uploads.values() if u.ext == "pdf")
    assert state.upload_bytes(pdf.id).startswith(b"%PDF-")
    by_name = {u.name: u for u in state.uploads.values()}
    assert state.upload_bytes(by_name["notes.txt"].id) == b"hello"
    assert state.upload_bytes(by_name["logo.png"].id) == b"\x89PNG"
    assert by_name["huge.zip"].data is None
    assert [c.archived for c in state.companies.values()] == [False, True]


def _broken(change: Any) -> Any:
    data = json.loads(json.dumps(GOOD))
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "top level"),
        ({"companies": []}, "missing key(s) articles"),
        ({"articles": [], "extra": 1}, "unknown key(s) extra"),
        (_broken(lambda d: d["articles"][1].update(company="Nobody")), "articles[1].company"),
        (_broken(lambda d: d["articles"][0].update(draft="yes")), "articles[0].draft"),
        (_broken(lambda d: d["articles"][0].update(name="  ")), "articles[0].name"),
        (_broken(lambda d: d["articles"][0].update(titel="x")), "unknown key(s) titel"),
        (_broken(lambda d: d["companies"].append({"name": "Acme Dental"})), "twice"),
        (_broken(lambda d: d["companies"][0].update(archived="no")), "companies[0].archived"),
        (
            _broken(lambda d: d["articles"][6]["uploads"][0].update(size=3)),
            "articles[6].uploads[0] must give exactly one",
        ),
        (
            _broken(lambda d: d["articles"][6]["uploads"][1].update(base64="@@@")),
            "not valid base64",
        ),
        (
            _broken(lambda d: d["articles"][6]["uploads"][2].update(size=True)),
            "articles[6].uploads[2].size",
        ),
    ],
)
def test_seed_from_file_rejects_malformed(tmp_path: Path, data: Any, message: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ValueError) as caught:
        seed_from_file(HuduState(), path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("seeder", [seed_small, seed_demo])
def test_customers_are_a_mix_of_integration_name_and_none(seeder: Any) -> None:
    hudu = HuduState(api_key=KEY)
    halo = HaloState()
    seeder(hudu)

    customers = seed_customers(hudu, halo)

    assert customers.by_integration and customers.by_name and customers.unmatched
    assert customers.stale_integration and set(customers.stale_integration) <= set(
        customers.unmatched
    )
    for company_id in customers.by_integration:
        company = hudu.companies[company_id]
        (integration,) = company.integrations
        client = halo.clients[integration["sync_id"]]
        assert integration["integrator_name"] == "halo"
        assert client["name"].casefold() != company.name.casefold()  # only the id matches
        assert customers.client_of[company_id] == client["id"]
    for company_id in customers.by_name:
        company = hudu.companies[company_id]
        client = halo.clients[customers.client_of[company_id]]
        assert not company.integrations
        assert client["name"].casefold() == company.name.casefold()
    for company_id in customers.stale_integration:
        (integration,) = hudu.companies[company_id].integrations
        assert integration["sync_id"] not in halo.clients
    names = {c["name"].casefold() for c in halo.clients.values()}
    for company_id in customers.unmatched:
        assert hudu.companies[company_id].name.casefold() not in names
    assert any(c["inactive"] for c in halo.clients.values())
