"""The Hudu emulator answers like Hudu's API v1: auth, pagination, filters, files and switches."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

import core.emulators
from core.emulators.hudu import HuduState, create_hudu_app, format_time
from core.emulators.seed import seed_small

KEY = "test-hudu-key"
BASE = "http://hudu.test"
SPEC = json.loads(
    (Path(core.emulators.__file__).parent / "specs" / "hudu-swagger-kb.json").read_text()
)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC))


@pytest.fixture
def state(clock: ManualClock) -> HuduState:
    return HuduState(api_key=KEY, clock=clock)


@pytest.fixture
async def client(state: HuduState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_hudu_app(state))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"x-api-key": KEY}
    ) as http:
        yield http


@pytest.fixture
async def anonymous(state: HuduState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_hudu_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def many_articles(state: HuduState, count: int) -> list[int]:
    return [state.add_article(f"Article {i:03d}")["id"] for i in range(count)]


async def article_ids(client: httpx.AsyncClient, **params: Any) -> list[int]:
    response = await client.get("/api/v1/articles", params={"page_size": 1000, **params})
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["articles"]]


# ---------------------------------------------------------------- auth and basics


async def test_api_info(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/api_info")
    assert response.status_code == 200
    assert response.json()["version"] == "2.44.0"
    assert set(response.json()) == {"version", "date"}


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": ""}])
async def test_missing_or_wrong_key_is_401_json(
    anonymous: httpx.AsyncClient, state: HuduState, headers: dict[str, str]
) -> None:
    state.add_article("Secret")
    for path in ("/api/v1/articles", "/api/v1/articles/1", "/api/v1/uploads", "/api/v1/nope"):
        response = await anonymous.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/json")
        assert "error" in response.json()


async def test_repr_hides_the_key(state: HuduState) -> None:
    assert KEY not in repr(state)


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/widgets")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}
    response = await client.delete("/api/v1/articles")
    assert response.status_code == 405
    assert response.json()["status"] == 405


# ---------------------------------------------------------------- pagination


async def test_pagination_default_25_short_last_page_and_empty_after(
    client: httpx.AsyncClient, state: HuduState
) -> None:
    ids = many_articles(state, 60)
    pages = []
    for page in (1, 2, 3, 4):
        response = await client.get("/api/v1/articles", params={"page": page})
        assert response.status_code == 200
        assert set(response.json()) == {"articles"}
        pages.append([a["id"] for a in response.json()["articles"]])
    assert [len(p) for p in pages] == [25, 25, 10, 0]
    assert pages[0] + pages[1] + pages[2] == ids
    response = await client.get("/api/v1/articles")
    assert [a["id"] for a in response.json()["articles"]] == pages[0]


async def test_page_size(client: httpx.AsyncClient, state: HuduState) -> None:
    ids = many_articles(state, 30)
    response = await client.get("/api/v1/articles", params={"page_size": 7, "page": 5})
    assert [a["id"] for a in response.json()["articles"]] == ids[28:]
    assert await article_ids(client) == ids


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "1.5"},
        {"page": "0"},
        {"page_size": "ten"},
        {"page_size": "0"},
        {"page_size": "1001"},
        {"company_id": "acme"},
        {"draft": "maybe"},
        {"updated_at": "yesterday,"},
        {"updated_at": "2026-01-01,2026-02-01,2026-03-01"},
    ],
)
async def test_bad_parameters_are_400(
    client: httpx.AsyncClient, state: HuduState, params: dict[str, str]
) -> None:
    state.add_article("One")
    response = await client.get("/api/v1/articles", params=params)
    assert response.status_code == 400
    assert "error" in response.json()


async def test_unknown_parameters_are_ignored(client: httpx.AsyncClient, state: HuduState) -> None:
    state.add_company("Acme")
    assert len(await article_ids(client, folder_id=3, archived="true", colour="blue")) == 0
    state.add_article("One")
    assert len(await article_ids(client, folder_id=3)) == 1


@pytest.mark.parametrize("path", ["/api/v1/companies", "/api/v1/folders", "/api/v1/uploads"])
async def test_other_lists_paginate(client: httpx.AsyncClient, state: HuduState, path: str) -> None:
    article = state.add_article("Host")["id"]
    for i in range(30):
        state.add_company(f"Company {i}")
        state.add_folder(f"Folder {i}")
        state.add_upload(article, f"file{i}.txt", data=b"x")
    first = (await client.get(path)).json()
    second = (await client.get(path, params={"page": 2})).json()
    if isinstance(first, dict):
        (first,) = first.values()
        (second,) = second.values()
    assert (len(first), len(second)) == (25, 5)
    response = await client.get(path, params={"page_size": 2000})
    assert response.status_code == 400


# ---------------------------------------------------------------- filters


async def test_filters(client: httpx.AsyncClient, state: HuduState) -> None:
    acme = state.add_company("Acme")["id"]
    vpn = state.add_article("VPN setup", "<p>GlobalProtect client</p>", company_id=acme)["id"]
    printers = state.add_article("Printer mapping", "<p>Use the VPN first</p>")["id"]
    draft = state.add_article("Half done", draft=True)["id"]
    null_draft = state.add_article("Legacy", draft=None)["id"]
    shared = state.add_article("Public guide", enable_sharing=True)["id"]

    assert await article_ids(client, company_id=acme) == [vpn]
    assert await article_ids(client, company_id=999) == []
    assert await article_ids(client, name="VPN setup") == [vpn]
    assert await article_ids(client, name="VPN") == []
    assert await article_ids(client, slug=state.articles[printers].slug) == [printers]
    assert await article_ids(client, search="vpn") == [vpn, printers]
    assert await article_ids(client, search="globalprotect") == [vpn]
    assert await article_ids(client, draft="true") == [draft]
    # A null draft is neither true nor false to SQL; clients must treat null as published.
    assert null_draft not in await article_ids(client, draft="false")
    assert await article_ids(client, draft="false") == [vpn, printers, shared]
    assert await article_ids(client, enable_sharing="true") == [shared]
    assert await article_ids(client, company_id=acme, search="printer") == []


async def test_companies_filter_by_updated_at_and_an_edit_bumps_it(
    client: httpx.AsyncClient, state: HuduState, clock: ManualClock
) -> None:
    old = state.add_company("Old Ltd")["id"]
    renamed = state.add_company("Acme")["id"]
    clock.advance(3600)
    state.update_company(renamed, name="Acme Ltd")
    archived = state.add_company("Gone Ltd")["id"]
    clock.advance(60)
    state.update_company(archived, archived=True)

    response = await client.get("/api/v1/companies", params={"updated_at": "2026-03-02T09:30:00Z,"})

    assert [(c["id"], c["name"], c["archived"]) for c in response.json()["companies"]] == [
        (renamed, "Acme Ltd", False),
        (archived, "Gone Ltd", True),
    ]
    assert old not in {c["id"] for c in response.json()["companies"]}
    with pytest.raises(TypeError):
        state.update_company(old, slug="elsewhere")


async def test_updated_at_ranges(
    client: httpx.AsyncClient, state: HuduState, clock: ManualClock
) -> None:
    january = state.add_article("Jan")["id"]
    clock.advance(0.123)
    state.update_article(january, updated_at=datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    february = state.add_article("Feb", updated_at=datetime(2026, 2, 10, 8, 30, 15, 250000))["id"]
    march = state.add_article("Mar", updated_at=datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))["id"]

    assert await article_ids(client, updated_at="2026-02-01T00:00:00Z,") == [february, march]
    assert await article_ids(client, updated_at=",2026-02-01T00:00:00Z") == [january]
    assert await article_ids(
        client, updated_at="2026-01-10T12:00:00Z,2026-02-10T08:30:15.250Z"
    ) == [
        january,
        february,
    ]
    assert await article_ids(client, updated_at="2026-02-10T08:30:15.250Z") == [february]
    assert await article_ids(client, updated_at="2026-02-10T08:30:15Z") == []
    assert await article_ids(client, updated_at="2026-03-01") == [march]
    assert await article_ids(client, updated_at="2026-01-01,2026-01-31") == [january]
    assert await article_ids(client, updated_at="2026-02-10T09:30:15.250+01:00") == [february]
    # An unescaped "+" in a query string arrives as a space; Hudu-style lenient parsing copes.
    response = await client.get("/api/v1/articles?updated_at=2026-02-10T09:30:15.250+01:00")
    assert [a["id"] for a in response.json()["articles"]] == [february]
    assert await article_ids(client, updated_at=",") == [january, february, march]
    emitted = (await client.get(f"/api/v1/articles/{february}")).json()["article"]
    assert emitted["updated_at"] == "2026-02-10T08:30:15.250Z"


async def test_update_bumps_updated_at_and_delete_removes(
    client: httpx.AsyncClient, state: HuduState, clock: ManualClock
) -> None:
    article = state.add_article("Doc")
    clock.advance(60)
    changed = state.update_article(article["id"], content="<p>new</p>")
    assert changed["updated_at"] == format_time(clock.now) != article["updated_at"]
    assert changed["created_at"] == article["created_at"]
    state.update_article(article["id"], archived=True)
    listed = (await client.get("/api/v1/articles")).json()["articles"]
    assert listed[0]["archived"] is True
    state.delete_article(article["id"])
    assert await article_ids(client) == []
    response = await client.get(f"/api/v1/articles/{article['id']}")
    assert response.status_code == 404


async def test_single_objects_and_404(client: httpx.AsyncClient, state: HuduState) -> None:
    company = state.add_company("Acme")
    folder = state.add_folder("Network", company["id"])
    article = state.add_article("Doc", company_id=company["id"], folder_id=folder["id"])
    assert (await client.get(f"/api/v1/articles/{article['id']}")).json() == {"article": article}
    assert (await client.get(f"/api/v1/companies/{company['id']}")).json() == {"company": company}
    assert (await client.get(f"/api/v1/folders/{folder['id']}")).json() == {"folder": folder}
    for path in ("articles/99", "articles/abc", "companies/99", "folders/99", "uploads/99"):
        response = await client.get(f"/api/v1/{path}")
        assert response.status_code == 404
        assert response.json() == {"status": 404, "error": "Not Found"}


async def test_company_and_folder_filters(client: httpx.AsyncClient, state: HuduState) -> None:
    acme = state.add_company("Acme")["id"]
    state.add_company("Globex", archived=True)
    central = state.add_folder("Runbooks")["id"]
    acme_folder = state.add_folder("Network", acme)["id"]
    child = state.add_folder("Sites", acme, parent_folder_id=acme_folder)["id"]
    companies = (await client.get("/api/v1/companies", params={"name": "Globex"})).json()
    assert [c["archived"] for c in companies["companies"]] == [True]
    folders = (await client.get("/api/v1/folders", params={"company_id": acme})).json()["folders"]
    assert [f["id"] for f in folders] == [acme_folder, child]
    assert folders[1]["parent_folder_id"] == acme_folder
    everything = (await client.get("/api/v1/folders")).json()["folders"]
    assert [f["id"] for f in everything] == [central, acme_folder, child]
    response = await client.get("/api/v1/folders", params={"company_id": "x"})
    assert response.status_code == 400


def test_mutation_api_rejects_bad_references(state: HuduState) -> None:
    acme = state.add_company("Acme")["id"]
    central_folder = state.add_folder("Runbooks")["id"]
    with pytest.raises(ValueError):
        state.add_article("X", company_id=42)
    with pytest.raises(ValueError):
        state.add_article("X", company_id=acme, folder_id=central_folder)
    article = state.add_article("X")["id"]
    with pytest.raises(ValueError):
        state.add_upload(article, "empty.bin")
    with pytest.raises(TypeError):
        state.update_article(article, title="nope")
    with pytest.raises(KeyError):
        state.delete_article(999)


def test_slugs_and_urls(state: HuduState) -> None:
    article = state.add_article("Shared", enable_sharing=True)
    assert re.fullmatch(r"[0-9a-f]{12}", article["slug"])
    assert article["url"] == f"{BASE}/kba/{article['slug']}"
    assert article["share_url"].startswith(f"{BASE}/shared_article/")
    other = HuduState(base_url="https://docs.example.com/").add_article("Doc")
    assert other["url"].startswith("https://docs.example.com/kba/")


# ---------------------------------------------------------------- uploads and photos


async def test_uploads_bare_array_and_download(client: httpx.AsyncClient, state: HuduState) -> None:
    article = state.add_article("Policy")["id"]
    pdf = state.add_upload(article, "Policy.pdf", data=b"%PDF-1.4 tiny", mime="application/pdf")
    response = await client.get("/api/v1/uploads")
    assert response.json() == [pdf]
    assert pdf["size"] == "13"
    assert (pdf["ext"], pdf["uploadable_type"], pdf["uploadable_id"]) == ("pdf", "Article", article)
    assert (await client.get(f"/api/v1/uploads/{pdf['id']}")).json() == pdf
    download = await client.get(f"/api/v1/uploads/{pdf['id']}", params={"download": "true"})
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 tiny"
    assert download.headers["content-type"] == "application/pdf"
    assert 'filename="Policy.pdf"' in download.headers["content-disposition"]


async def test_large_upload_is_lazy(client: httpx.AsyncClient, state: HuduState) -> None:
    article = state.add_article("Big")["id"]
    size = 30 * 1024 * 1024
    upload = state.add_upload(article, "recordings.zip", size=size)
    assert upload["size"] == str(size)
    assert state.uploads[upload["id"]].data is None
    download = await client.get(f"/api/v1/uploads/{upload['id']}?download=true")
    assert len(download.content) == size
    assert int(download.headers["content-length"]) == size
    assert download.content[:4096] == state.upload_bytes(upload["id"])[:4096]
    assert state.uploads[upload["id"]].data is None


async def test_redirect_downloads(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: HuduState
) -> None:
    state.redirect_downloads = True
    article = state.add_article("Doc")["id"]
    upload = state.add_upload(article, "notes v2.txt", data=b"hello")
    path = f"/api/v1/uploads/{upload['id']}?download=true"
    response = await client.get(path)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{BASE}/storage/")
    stored = await anonymous.get(location)
    assert (stored.status_code, stored.content) == (200, b"hello")
    followed = await client.get(path, follow_redirects=True)
    assert followed.content == b"hello"
    tampered = await anonymous.get(re.sub(r"Signature=\w+", "Signature=0", location))
    assert tampered.status_code == 403
    assert (await client.get(f"/api/v1/uploads/{upload['id']}")).status_code == 200


async def test_public_photos(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: HuduState
) -> None:
    article = state.add_article("With images")["id"]
    photo = state.add_public_photo(article, "diagram.png")
    state.update_article(article, content=f'<img src="/public_photo/{photo["id"]}">')
    listed = (await client.get("/api/v1/public_photos")).json()
    assert listed == {"public_photos": [photo]}
    body = (await client.get(f"/api/v1/articles/{article}")).json()["article"]
    assert body["public_photos"] == [photo]
    assert photo["url"] == f"{BASE}/public_photo/{photo['id']}"
    image = await anonymous.get(f"/public_photo/{photo['id']}")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert len(image.content) == photo["file_size"]
    assert (await anonymous.get("/public_photo/000000000000")).status_code == 404
    by_number = await client.get(f"/api/v1/public_photos/{photo['numeric_id']}")
    assert by_number.json() == photo
    assert (await client.get(f"/api/v1/public_photos/{photo['id']}")).status_code == 404


# ---------------------------------------------------------------- switches


async def test_latency(client: httpx.AsyncClient, state: HuduState) -> None:
    state.switches.latency = 0.05
    started = time.perf_counter()
    await client.get("/api/v1/api_info")
    assert time.perf_counter() - started >= 0.05


async def test_rate_limit_fixed_five_minute_window(
    client: httpx.AsyncClient, state: HuduState, clock: ManualClock
) -> None:
    state.rate_limit = 3
    for _ in range(3):
        assert (await client.get("/api/v1/api_info")).status_code == 200
    limited = await client.get("/api/v1/articles")
    assert limited.status_code == 429
    assert limited.text == "Retry later"
    assert limited.headers["content-type"].startswith("text/plain")
    assert "retry-after" not in limited.headers
    clock.now = datetime(2026, 3, 2, 9, 4, 59, 999000, tzinfo=UTC)
    assert (await client.get("/api/v1/api_info")).status_code == 429
    clock.now = datetime(2026, 3, 2, 9, 5, 0, tzinfo=UTC)
    assert (await client.get("/api/v1/api_info")).status_code == 200
    assert [r.status for r in state.log.entries][-3:] == [429, 429, 200]


async def test_fail_next_and_error_rate(client: httpx.AsyncClient, state: HuduState) -> None:
    state.switches.error_status = 500
    state.switches.fail_next = 2
    for _ in range(2):
        response = await client.get("/api/v1/articles")
        assert response.status_code == 500
        assert response.json() == {"status": 500, "error": "Internal Server Error"}
    assert (await client.get("/api/v1/articles")).status_code == 200
    state.switches.error_status = 502
    state.switches.error_rate = 1.0
    response = await client.get("/api/v1/articles")
    assert response.json() == {"status": 502, "error": "Bad Gateway"}
    assert [r.status for r in state.log.entries] == [500, 500, 200, 502]


async def test_html_instead_of_json(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, state: HuduState
) -> None:
    article = state.add_article("Doc")["id"]
    photo = state.add_public_photo(article, "a.png")
    state.html_instead_of_json = True
    for path in ("/api/v1/articles", "/api/v1/uploads", "/api/v1/nope"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.text.lstrip().lower().startswith("<!doctype html>")
    assert (await anonymous.get(f"/public_photo/{photo['id']}")).status_code == 200


async def test_request_log(client: httpx.AsyncClient, state: HuduState) -> None:
    await client.get("/api/v1/articles", params={"page": 2})
    (entry,) = state.log.entries
    assert (entry.method, entry.path, entry.query, entry.status) == (
        "GET",
        "/api/v1/articles",
        {"page": "2"},
        200,
    )


# ---------------------------------------------------------------- spec conformance


def _schema(name: str) -> dict[str, Any]:
    """A spec definition as JSON Schema, strict about the field set.

    Swagger 2.0 cannot say "nullable", so the spec says "Can be null" in descriptions; those
    fields accept null, and so do the Article fields seen null in practice: `draft`,
    `enable_sharing`, `share_url`, `company_id` (Central KB) and `folder_id` (KB root). The
    observed deviations (docs/hudu-and-halo.md#hudu-articles): Article gains `archived`, and its
    `public_photos` holds PublicPhoto objects.
    """
    definitions = json.loads(json.dumps(SPEC["definitions"]))
    nullable = {
        "Article": {"draft", "folder_id", "company_id", "share_url", "enable_sharing"},
    }
    for def_name in ("Article", "Company", "Folder", "Upload", "PublicPhoto"):
        definition = definitions[def_name]
        for prop_name, prop in definition["properties"].items():
            described = "null" in prop.get("description", "").lower()
            if described or prop_name in nullable.get(def_name, set()):
                prop["type"] = [prop["type"], "null"]
        definition["additionalProperties"] = False
    article = definitions["Article"]["properties"]
    article["archived"] = {"type": "boolean"}
    article["public_photos"] = {"type": "array", "items": {"$ref": "#/definitions/PublicPhoto"}}
    for def_name in ("Article", "Company", "Folder", "Upload", "PublicPhoto"):
        definitions[def_name]["required"] = sorted(definitions[def_name]["properties"])
    return {"$ref": f"#/definitions/{name}", "definitions": definitions}


def _check(instance: Any, name: str) -> None:
    jsonschema.validate(instance, _schema(name), cls=jsonschema.Draft4Validator)
    for key, prop in SPEC["definitions"][name]["properties"].items():
        if prop.get("format") == "date-time" and instance.get(key) is not None:
            assert TIMESTAMP.match(instance[key]), (name, key, instance[key])


async def test_emitted_objects_conform_to_the_spec(
    client: httpx.AsyncClient, state: HuduState
) -> None:
    seed_small(state)
    archived_upload = next(iter(state.uploads.values()))
    archived_upload.archived_at = state.clock()
    articles = (await client.get("/api/v1/articles", params={"page_size": 100})).json()
    assert articles["articles"]
    for article in articles["articles"]:
        _check(article, "Article")
        for photo in article["public_photos"]:
            _check(photo, "PublicPhoto")
    assert {a["draft"] for a in articles["articles"]} == {True, False, None}
    for company in (await client.get("/api/v1/companies")).json()["companies"]:
        _check(company, "Company")
    for folder in (await client.get("/api/v1/folders")).json()["folders"]:
        _check(folder, "Folder")
    uploads = (await client.get("/api/v1/uploads")).json()
    assert isinstance(uploads, list)
    assert uploads
    for upload in uploads:
        _check(upload, "Upload")
    for photo in (await client.get("/api/v1/public_photos")).json()["public_photos"]:
        _check(photo, "PublicPhoto")
    single = (await client.get("/api/v1/articles/1")).json()
    assert set(single) == {"article"}
    _check(single["article"], "Article")


def test_spec_wraps_match_the_emulator() -> None:
    paths = SPEC["paths"]
    wraps = {
        "/articles": "articles",
        "/articles/{id}": "article",
        "/companies": "companies",
        "/companies/{id}": "company",
        "/folders": "folders",
        "/folders/{id}": "folder",
        "/public_photos": "public_photos",
    }
    for path, key in wraps.items():
        schema = paths[path]["get"]["responses"]["200"]["schema"]
        assert list(schema["properties"]) == [key]
    assert paths["/uploads"]["get"]["responses"]["200"]["schema"]["type"] == "array"
    params = {p["name"] for p in paths["/articles"]["get"]["parameters"]}
    assert params == {
        "name",
        "company_id",
        "page",
        "draft",
        "enable_sharing",
        "page_size",
        "slug",
        "search",
        "updated_at",
    }


async def test_gate_holds_when_mounted_under_a_prefix() -> None:
    """`hhsync emulate` mounts Hudu under /hudu: auth and switches must still apply."""
    from core.emulators.halo import HaloState
    from core.emulators.server import create_emulator_app

    state = HuduState(api_key="right-key")
    app = create_emulator_app(state, HaloState())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as c:
        assert (await c.get("/hudu/api/v1/articles")).status_code == 401
        ok = await c.get("/hudu/api/v1/articles", headers={"x-api-key": "right-key"})
        assert ok.status_code == 200
        state.html_instead_of_json = True
        page = await c.get("/hudu/api/v1/articles", headers={"x-api-key": "right-key"})
        assert page.headers["content-type"].startswith("text/html")


async def test_company_integrations_follow_the_spec(
    client: httpx.AsyncClient, state: HuduState
) -> None:
    acme = state.add_company("Acme")["id"]
    state.add_company("Plain")
    state.add_integration(acme, "halo", 42, "42")
    state.add_integration(acme, "cw_manage", 7)

    companies = (await client.get("/api/v1/companies")).json()["companies"]
    one = (await client.get(f"/api/v1/companies/{acme}")).json()["company"]

    schema = _schema("Company")
    integration = schema["definitions"]["Company_Integration"]
    for prop in integration["properties"].values():
        if "null" in prop.get("description", "").lower():
            prop["type"] = [prop["type"], "null"]
    integration["additionalProperties"] = False
    integration["required"] = sorted(integration["properties"])
    for company in companies:
        jsonschema.validate(company, schema, cls=jsonschema.Draft4Validator)
    assert [(i["integrator_name"], i["sync_id"]) for i in one["integrations"]] == [
        ("halo", 42),
        ("cw_manage", 7),
    ]
    assert {i["company_id"] for i in one["integrations"]} == {acme}
    assert companies[1]["integrations"] == []
    with pytest.raises(ValueError, match="no Hudu company"):
        state.add_integration(999, "halo", 1)
