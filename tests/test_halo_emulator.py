"""The Halo emulator: strict like the real API, stateful, every switch reproduces its failure."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from jsonschema import Draft4Validator
from starlette.applications import Starlette
from starlette.routing import Mount

from core.emulators import openapi
from core.emulators.halo import MAX_ATTACHMENT_BYTES, HaloState, create_halo_app
from core.emulators.openapi import MAX_ERRORS, OpenApiDocument, halo_document, to_json_schema

CLIENT_ID = "client-1"
SECRET = "s3cret"
BASE = "http://halo.test"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> HaloState:
    return HaloState(client_id=CLIENT_ID, client_secret=SECRET, clock=clock)


@pytest.fixture
async def client(state: HaloState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_halo_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


def token_form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": "read:kb edit:kb",
    }
    form.update(overrides)
    return form


async def auth(client: httpx.AsyncClient, scope: str = "read:kb edit:kb") -> dict[str, str]:
    response = await client.post("/auth/token", data=token_form(scope=scope))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def headers(client: httpx.AsyncClient) -> dict[str, str]:
    return await auth(client)


@pytest.fixture
def lists(state: HaloState) -> dict[str, int]:
    group = state.add_faqlist("Hudu", is_group=True)
    central = state.add_faqlist("Central KB", group_id=group["id"], third_party_id="hudu:central")
    acme = state.add_faqlist("Acme", group_id=group["id"], third_party_id="hudu:company:7")
    return {"group": group["id"], "central": central["id"], "acme": acme["id"]}


async def post_articles(
    client: httpx.AsyncClient, headers: dict[str, str], body: Any
) -> httpx.Response:
    return await client.post("/api/KBArticle", json=body, headers=headers)


# ---------------------------------------------------------------------- auth
async def test_token_flow(client: httpx.AsyncClient, state: HaloState) -> None:
    response = await client.post("/auth/token", data=token_form())
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"read:kb", "edit:kb"}
    listing = await client.get(
        "/api/KBArticle", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert listing.status_code == 200
    assert listing.json() == {"record_count": 0, "articles": []}


async def test_token_needs_the_tenant_when_set(client: httpx.AsyncClient, state: HaloState) -> None:
    state.tenant = "acme"
    missing = await client.post("/auth/token", data=token_form())
    wrong = await client.post("/auth/token?tenant=other", data=token_form())
    right = await client.post("/auth/token?tenant=acme", data=token_form())
    assert missing.status_code == wrong.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (token_form(client_secret="wrong"), 401, "invalid_client"),
        (token_form(client_id="other"), 401, "invalid_client"),
        (token_form(grant_type="password"), 400, "unsupported_grant_type"),
        (token_form(scope="read:kb edit:kb admin"), 400, "invalid_scope"),
    ],
)
async def test_token_refusals(
    client: httpx.AsyncClient, form: dict[str, str], status: int, error: str
) -> None:
    response = await client.post("/auth/token", data=form)
    assert response.status_code == status
    assert response.json()["error"] == error


async def test_token_request_must_be_form_encoded(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/token", json=token_form())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_scope_not_granted_to_the_application(
    client: httpx.AsyncClient, state: HaloState
) -> None:
    state.granted_scopes = {"read:kb"}
    response = await client.post("/auth/token", data=token_form())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_token_expires_on_the_clock(
    client: httpx.AsyncClient, state: HaloState, clock: FakeClock
) -> None:
    state.token_lifetime = 600
    headers = await auth(client)
    assert (await client.get("/api/KBArticle", headers=headers)).status_code == 200
    clock.advance(601)
    expired = await client.get("/api/KBArticle", headers=headers)
    assert expired.status_code == 401
    assert expired.json() == {"message": "Access token expired"}


async def test_missing_or_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/KBArticle")).status_code == 401
    unknown = await client.get("/api/KBArticle", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401


async def test_missing_scope_is_403(client: httpx.AsyncClient, state: HaloState) -> None:
    read_only = await auth(client, scope="read:kb")
    assert (await client.get("/api/KBArticle", headers=read_only)).status_code == 200
    response = await post_articles(client, read_only, [{"name": "x"}])
    assert response.status_code == 403
    assert response.text.startswith("You don't have permissions to")
    assert state.articles == {}
    write_only = await auth(client, scope="edit:kb")
    assert (await client.get("/api/FAQLists", headers=write_only)).status_code == 403


async def test_authinfo_is_anonymous_and_case_insensitive(
    client: httpx.AsyncClient, state: HaloState
) -> None:
    state.tenant = "acme"
    for path in ("/api/authinfo", "/api/AuthInfo", "/API/AUTHINFO/"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"auth_url": f"{BASE}/auth", "tenant_id": "acme"}


# ---------------------------------------------------------------------- FAQ lists
async def test_faqlists_create_group_and_children(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    created = await client.post(
        "/api/FAQLists", json=[{"name": "Hudu", "is_group": True}], headers=headers
    )
    assert created.status_code == 200
    group = created.json()[0]
    assert group["id"] > 0
    assert group["is_group"] is True
    children = await client.post(
        "/api/FAQLists",
        json=[
            {"name": "Central KB", "group_id": group["id"], "third_party_id": "hudu:central"},
            {"name": "Acme", "group_id": group["id"], "showforall": True},
        ],
        headers=headers,
    )
    assert children.status_code == 200
    central, acme = children.json()
    assert central["group_name"] == "Hudu"
    assert central["third_party_id"] == "hudu:central"
    assert acme["showforall"] is True

    listing = (await client.get("/api/faqlists", headers=headers)).json()
    assert isinstance(listing, list)
    assert [f["name"] for f in listing] == ["Hudu", "Central KB", "Acme"]
    leaves = (await client.get("/api/FAQLists?endoftreeonly=true", headers=headers)).json()
    assert [f["name"] for f in leaves] == ["Central KB", "Acme"]
    one = await client.get(f"/api/FAQLists/{central['id']}", headers=headers)
    assert one.json()["name"] == "Central KB"
    assert (await client.get("/api/FAQLists/999", headers=headers)).status_code == 404

    renamed = await client.post(
        "/api/FAQLists", json=[{"id": acme["id"], "name": "Acme Corp"}], headers=headers
    )
    assert renamed.json()[0]["showforall"] is True
    assert state.faqlists[acme["id"]]["name"] == "Acme Corp"
    assert len(state.faqlists) == 3


async def test_faqlist_group_must_be_a_group(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int], state: HaloState
) -> None:
    response = await client.post(
        "/api/FAQLists", json=[{"name": "x", "group_id": lists["central"]}], headers=headers
    )
    assert response.status_code == 400
    assert "[0].group_id" in response.json()
    unknown = await client.post("/api/FAQLists", json=[{"id": 99, "name": "x"}], headers=headers)
    assert list(unknown.json()) == ["[0].id"]
    assert len(state.faqlists) == 3


# ---------------------------------------------------------------------- KB articles
async def test_article_create_and_partial_update(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int], state: HaloState
) -> None:
    created = await post_articles(
        client,
        headers,
        [
            {
                "name": "Reset MFA",
                "description": "<p>Steps</p>",
                "description_html": "<p>Steps</p>",
                "faqlists": [{"id": lists["central"]}],
                "tag_string": "hudu,hudu-article-1",
                "inactive": False,
            },
            {"id": 0, "name": "VPN", "tag_string": "hudu,hudu-article-2"},
        ],
    )
    assert created.status_code == 200
    first, second = created.json()
    assert first["id"] != second["id"]
    assert (first["name"], first["tag_string"]) == ("Reset MFA", "hudu,hudu-article-1")
    assert first["faqlists"] == [{"id": lists["central"], "name": "Central KB"}]

    updated = await post_articles(
        client, headers, [{"id": first["id"], "faqlists": [{"id": lists["acme"]}]}]
    )
    assert updated.status_code == 200
    stored = state.articles[first["id"]]
    assert stored["name"] == "Reset MFA"
    assert stored["description_html"] == "<p>Steps</p>"
    assert [f["id"] for f in stored["faqlists"]] == [lists["acme"]]
    assert len(state.articles) == 2
    assert [a["name"] for a in state.articles_with_tag("hudu-article-2")] == ["VPN"]
    assert state.articles_with_tag("hudu-article") == []

    archived = await post_articles(client, headers, [{"id": second["id"], "inactive": True}])
    assert archived.status_code == 200
    assert [a["name"] for a in state.live_articles()] == ["Reset MFA"]


async def test_article_update_of_unknown_id_is_400(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    response = await post_articles(client, headers, [{"id": 4242, "name": "x"}])
    assert response.status_code == 400
    assert list(response.json()) == ["[0].id"]
    nameless = await post_articles(client, headers, [{"description": "no name"}])
    assert list(nameless.json()) == ["[0].name"]
    assert state.articles == {}


async def test_article_list_search_filters_and_pages(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int], state: HaloState
) -> None:
    for number in range(1, 8):
        state.add_article(
            f"Article {number}",
            tag_string=f"hudu,hudu-article-{number}",
            faqlist_ids=[lists["central"] if number <= 4 else lists["acme"]],
            inactive=number == 7,
        )
    state.add_article("Printer HOWTO", description="Fix the PRINTER", tag_string="other")

    async def listing(**params: Any) -> dict[str, Any]:
        response = await client.get("/api/KBArticle", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everything = await listing()
    assert everything["record_count"] == 7
    assert set(everything["articles"][0]) <= set(
        halo_document().document["components"]["schemas"]["KBEntry_List"]["properties"]
    )
    assert "faqlists" not in everything["articles"][0]
    assert (await listing(includeinactive="true"))["record_count"] == 8
    assert [a["name"] for a in (await listing(search="printer"))["articles"]] == ["Printer HOWTO"]
    assert (await listing(search="HUDU-ARTICLE-3"))["record_count"] == 1
    acme = await listing(faqlists=str(lists["acme"]), includeinactive="true")
    assert [a["name"] for a in acme["articles"]] == ["Article 5", "Article 6", "Article 7"]
    both = await listing(faqlists=f"{lists['acme']},{lists['central']}")
    assert both["record_count"] == 6

    page2 = await listing(pageinate="true", page_size=3, page_no=2)
    assert page2["record_count"] == 7
    assert [a["name"] for a in page2["articles"]] == ["Article 4", "Article 5", "Article 6"]
    unpaged = await listing(page_size=2, page_no=2)
    assert len(unpaged["articles"]) == 7
    assert len((await listing(count=2))["articles"]) == 2

    bad = await client.get("/api/KBArticle?pageinate=maybe", headers=headers)
    assert bad.status_code == 400
    assert "pageinate" in bad.json()


async def test_article_get_with_and_without_details(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int]
) -> None:
    pdf = base64.b64encode(b"%PDF-1.7 tiny").decode()
    created = await post_articles(
        client,
        headers,
        [
            {
                "name": "Guide",
                "description_html": "<p>Body</p>",
                "faqlists": [{"id": lists["central"]}],
                "attachments": [{"filename": "guide.pdf", "data_base64": pdf, "isimage": False}],
            }
        ],
    )
    article_id = created.json()[0]["id"]
    short = (await client.get(f"/api/KBArticle/{article_id}", headers=headers)).json()
    assert "description_html" not in short
    detailed = (
        await client.get(f"/api/kbarticle/{article_id}?includedetails=true", headers=headers)
    ).json()
    assert detailed["description_html"] == "<p>Body</p>"
    assert detailed["inactive"] is False
    assert detailed["faqlists"] == [{"id": lists["central"], "name": "Central KB"}]
    (attachment,) = detailed["attachments"]
    assert attachment["filename"] == "guide.pdf"
    assert attachment["filesize"] == len(b"%PDF-1.7 tiny")
    assert "data_base64" not in attachment
    missing = await client.get("/api/KBArticle/9999", headers=headers)
    assert missing.status_code == 404


# ---------------------------------------------------------------------- spec validation
async def test_unknown_field_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    response = await post_articles(client, headers, [{"name": "ok"}, {"nmae": "typo"}])
    assert response.status_code == 400
    assert response.json() == {
        "[1].nmae": ["Could not find member 'nmae' on object of type 'KBEntry'. Path '[1].nmae'."]
    }
    assert state.articles == {}


async def test_unknown_nested_field_is_keyed_by_its_path(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int]
) -> None:
    body = [{"name": "x", "faqlists": [{"id": lists["central"], "faqlist_id": 1}]}]
    response = await post_articles(client, headers, body)
    assert response.status_code == 400
    (message,) = response.json()["[0].faqlists[0].faqlist_id"]
    assert "'FAQListHead'" in message


@pytest.mark.parametrize(
    ("article", "key", "fragment"),
    [
        ({"name": "x", "inactive": "yes"}, "[0].inactive", "Path '[0].inactive'"),
        ({"name": "x", "inactive": 1}, "[0].inactive", "Unexpected character"),
        ({"name": 5}, "[0].name", "Unexpected character"),
        ({"name": "x", "id": "12"}, "[0].id", "Could not convert string to integer"),
        ({"name": "x", "id": None}, "[0].id", "{null}"),
        ({"name": "x", "id": 2**31}, "[0].id", "Int32"),
        ({"name": "x", "faqlists": {"id": 1}}, "[0].faqlists", "JSON array"),
        ({"name": "x", "date_created": "tomorrow"}, "[0].date_created", "DateTime"),
    ],
)
async def test_wrong_types_are_refused(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    state: HaloState,
    article: dict[str, Any],
    key: str,
    fragment: str,
) -> None:
    response = await post_articles(client, headers, [article])
    assert response.status_code == 400
    assert fragment in response.json()[key][0]
    assert state.articles == {}


async def test_nullable_fields_accept_null(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await post_articles(client, headers, [{"name": "x", "tag_string": None}])
    assert response.status_code == 200


async def test_body_must_be_a_json_array(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    single = await post_articles(client, headers, {"name": "not in an array"})
    assert single.status_code == 400
    assert "JSON array" in single.json()[""][0]
    faq = await client.post("/api/FAQLists", json={"name": "x"}, headers=headers)
    assert faq.status_code == 400
    broken = await client.post(
        "/api/KBArticle",
        content=b"[{'name': 1}]",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    empty = await client.post(
        "/api/KBArticle", content=b"", headers={**headers, "Content-Type": "application/json"}
    )
    assert empty.status_code == 400
    form = await client.post("/api/KBArticle", data={"name": "x"}, headers=headers)
    assert form.status_code == 415
    assert state.articles == {}


def article_batch(faqlist: int, size: int = 50, **extra: object) -> list[dict[str, Any]]:
    return [
        {
            "name": f"Article {n}",
            "description": "<p>text</p>" * 20,
            "description_html": "<p>text</p>" * 20,
            "faqlists": [{"id": faqlist}],
            "tag_string": f"hudu,hudu-article-{n}",
            "inactive": False,
            **extra,
        }
        for n in range(size)
    ]


async def test_the_spec_is_compiled_once_not_per_request_or_emulator(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    lists: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Validating a request costs one pass of a prepared validator: the spec file is read,
    translated and compiled once per process, whatever the number of requests or emulators."""
    warm = await post_articles(client, headers, article_batch(lists["central"]))
    assert warm.status_code == 200
    work: Counter[str] = Counter()

    def counted(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            work[name] += 1
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(
        openapi.OpenApiDocument, "from_file", counted("spec read", OpenApiDocument.from_file)
    )
    monkeypatch.setattr(openapi, "to_json_schema", counted("schema translated", to_json_schema))
    monkeypatch.setattr(openapi, "Draft4Validator", counted("validator built", Draft4Validator))

    other = HaloState(client_id=CLIENT_ID, client_secret=SECRET)
    transport = httpx.ASGITransport(app=create_halo_app(other))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as second:
        faq = other.add_faqlist("Central KB")["id"]
        second_headers = await auth(second)
        for _ in range(5):
            first = await post_articles(client, headers, article_batch(lists["central"]))
            other_one = await post_articles(second, second_headers, article_batch(faq))
            assert first.status_code == other_one.status_code == 200, other_one.text

    assert work == {}
    assert len(other.articles) == 250


async def test_a_batch_of_bad_articles_is_described_up_to_a_limit(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    lists: dict[str, int],
    state: HaloState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """5,000 articles each with an unknown member: the answer names the first MAX_ERRORS,
    and no more errors are worked out than are named."""
    described = 0
    describe = openapi._describe

    def counted(error: Any) -> Any:
        nonlocal described
        described += 1
        return describe(error)

    monkeypatch.setattr(openapi, "_describe", counted)

    response = await post_articles(
        client, headers, article_batch(lists["central"], 5000, nmae="typo")
    )

    assert response.status_code == 400
    model_state = response.json()
    assert list(model_state)[:2] == ["[0].nmae", "[1].nmae"]
    assert len(model_state) == described == MAX_ERRORS
    assert state.articles == {}


async def test_a_thousand_articles_in_batches(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int], state: HaloState
) -> None:
    state.rate_limit = None
    for start in range(0, 1000, 50):
        batch = [
            {
                "name": f"Article {n}",
                "description_html": f"<p>{n}</p>",
                "faqlists": [{"id": lists["central"]}],
                "tag_string": f"hudu,hudu-article-{n}",
            }
            for n in range(start, start + 50)
        ]
        response = await post_articles(client, headers, batch)
        assert response.status_code == 200
        assert [a["name"] for a in response.json()] == [b["name"] for b in batch]
    assert len(state.articles) == 1000
    assert len(state.log.writes("/api/KBArticle")) == 20


async def test_request_log_uses_canonical_paths(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    await client.post("/api/kbarticle", json=[{"name": "x"}], headers=headers)
    await client.get("/API/KBARTICLE", headers=headers)
    assert state.log.count("POST", "/api/KBArticle") == 1
    assert state.log.count("GET", "/api/KBArticle") == 1
    assert state.log.count("POST", "/auth/token") == 1


async def test_routes_outside_the_emulation(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert (await client.post("/api/KBArticle/vote", json=[], headers=headers)).status_code == 501
    assert (await client.put("/api/KBArticle", json=[], headers=headers)).status_code == 405
    assert (await client.get("/api/Tickets", headers=headers)).status_code == 404


async def test_works_mounted_under_a_prefix(state: HaloState) -> None:
    app = Starlette(routes=[Mount("/halo", app=create_halo_app(state))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"{BASE}/halo") as client:
        headers = await auth(client)
        response = await client.post("/api/kbarticle", json=[{"name": "x"}], headers=headers)
        assert response.status_code == 200
    assert state.log.count("POST", "/api/KBArticle") == 1


# ---------------------------------------------------------------------- switches
async def test_rolling_window_rate_limit(
    client: httpx.AsyncClient, state: HaloState, clock: FakeClock
) -> None:
    state.rate_limit, state.rate_window_seconds = 5, 10
    headers = await auth(client)  # request 1, at t=0
    for _ in range(4):  # requests 2..5 at t=2, 4, 6, 8
        clock.advance(2)
        assert (await client.get("/api/KBArticle", headers=headers)).status_code == 200
    clock.advance(1)  # t=9
    limited = await client.get("/api/KBArticle", headers=headers)
    assert limited.status_code == 429
    assert limited.text == "Rate Limit Reached - 5 Requests per rolling 0.166667 minute window"
    assert "retry-after" not in limited.headers
    clock.advance(1)  # t=10: the request at t=0 has left the window, one slot frees
    assert (await client.get("/api/KBArticle", headers=headers)).status_code == 200
    # A bucket refilled at t=10 would allow more; a rolling window does not.
    assert (await client.get("/api/KBArticle", headers=headers)).status_code == 429
    state.send_retry_after = True
    clock.advance(0.5)
    assert (await client.get("/api/KBArticle", headers=headers)).headers["retry-after"] == "2"
    state.rate_limit = None
    assert (await client.get("/api/KBArticle", headers=headers)).status_code == 200


async def test_default_rate_limit_message(client: httpx.AsyncClient, state: HaloState) -> None:
    state.rate_limit = 1
    state.rate_window_seconds = 300
    await client.get("/api/authinfo")
    response = await client.get("/api/authinfo")
    assert response.status_code == 429
    assert response.text == "Rate Limit Reached - 1 Requests per rolling 5 minute window"
    assert HaloState().rate_limit == 300


async def test_token_requests_count_against_the_limit(
    client: httpx.AsyncClient, state: HaloState
) -> None:
    state.rate_limit = 2
    await auth(client)
    await auth(client)
    assert (await client.post("/auth/token", data=token_form())).status_code == 429


async def test_server_errors_from_fault_switches(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    state.switches.fail_next = 1
    state.switches.error_status = 500
    failed = await client.get("/api/KBArticle", headers=headers)
    assert failed.status_code == 500
    assert failed.json()["ClassName"] == "System.Exception"
    assert (await client.get("/api/KBArticle", headers=headers)).status_code == 200
    state.switches.error_rate = 1.0
    state.switches.error_status = 503
    assert (await client.get("/api/KBArticle", headers=headers)).status_code == 503
    assert state.log.count("GET", "/api/KBArticle") == 3


async def test_ai_duplicate_detection_500(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    existing = state.add_article("Old")
    state.ai_duplicate_detection = True
    for body in ([{"name": "New"}], [{"id": existing["id"], "name": "Renamed"}]):
        response = await post_articles(client, headers, body)
        assert response.status_code == 500
        assert "duplicate detection" in response.json()["Message"]
    assert [a["name"] for a in state.articles.values()] == ["Old"]


async def test_reject_article_names(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    state.reject_article_names = {"Bad FAQ": 400, "Crashes": 500}
    response = await post_articles(client, headers, [{"name": "Fine"}, {"name": "Bad FAQ"}])
    assert response.status_code == 400
    assert list(response.json()) == ["[1].faqlists"]
    crash = await post_articles(client, headers, [{"name": "Crashes"}])
    assert crash.status_code == 500
    assert crash.json()["ClassName"] == "System.Exception"
    assert state.articles == {}
    assert (await post_articles(client, headers, [{"name": "Fine"}])).status_code == 200


async def test_faq_list_errors(
    client: httpx.AsyncClient, headers: dict[str, str], lists: dict[str, int], state: HaloState
) -> None:
    group = await post_articles(
        client, headers, [{"name": "x", "faqlists": [{"id": lists["group"]}]}]
    )
    assert group.status_code == 400
    assert list(group.json()) == ["[0].faqlists[0].id"]
    missing = await post_articles(client, headers, [{"name": "x", "faqlists": [{"id": 999}]}])
    assert missing.status_code == 400
    state.faq_lists_allowed = False
    off = await post_articles(
        client, headers, [{"name": "ok"}, {"name": "x", "faqlists": [{"id": lists["central"]}]}]
    )
    assert off.status_code == 400
    assert "Allow Articles to be added to FAQ Lists" in off.json()["[1].faqlists"][0]
    assert state.articles == {}


async def test_delete_forbidden_then_allowed(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    article = state.add_article("Doomed")
    forbidden = await client.delete(f"/api/KBArticle/{article['id']}", headers=headers)
    assert forbidden.status_code == 403
    assert article["id"] in state.articles
    state.delete_forbidden = False
    deleted = await client.delete(f"/api/KBArticle/{article['id']}", headers=headers)
    assert deleted.status_code in (200, 204)
    assert state.articles == {}
    again = await client.delete(f"/api/KBArticle/{article['id']}", headers=headers)
    assert again.status_code == 404
    assert len(state.log.writes("/api/KBArticle")) == 3


async def test_drop_after_commit_in_process(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    state.drop_after_commit = 1
    with pytest.raises(httpx.TransportError):
        await post_articles(
            client, headers, [{"name": "Committed", "tag_string": "hudu-article-9"}]
        )
    assert [a["name"] for a in state.articles_with_tag("hudu-article-9")] == ["Committed"]
    assert state.drop_after_commit == 0
    assert (await post_articles(client, headers, [{"name": "Next"}])).status_code == 200


async def test_drop_after_commit_over_a_real_socket(state: HaloState) -> None:
    state.drop_after_commit = 1
    config = uvicorn.Config(
        create_halo_app(state), host="127.0.0.1", port=0, log_level="critical", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            headers = await auth(client)
            with pytest.raises(httpx.RemoteProtocolError):
                await post_articles(client, headers, [{"name": "Committed"}])
            assert [a["name"] for a in state.articles.values()] == ["Committed"]
            after = await post_articles(client, headers, [{"name": "Next"}])
            assert after.status_code == 200
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def test_attachment_limits(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    assert HaloState().max_attachment_bytes == MAX_ATTACHMENT_BYTES == 25 * 1024 * 1024
    state.max_attachment_bytes = 1000

    def article(size: int) -> list[dict[str, Any]]:
        data = base64.b64encode(b"x" * size).decode()
        return [{"name": "Doc", "attachments": [{"filename": "a.pdf", "data_base64": data}]}]

    too_big = await post_articles(client, headers, article(1001))
    assert too_big.status_code == 400
    (message,) = too_big.json()["[0].attachments[0].data_base64"]
    assert "a.pdf" in message
    invalid = await post_articles(
        client,
        headers,
        [{"name": "Doc", "attachments": [{"filename": "a.pdf", "data_base64": "not base64!"}]}],
    )
    assert invalid.status_code == 400
    assert state.articles == {}

    fits = await post_articles(client, headers, article(1000))
    assert fits.status_code == 200
    saved = fits.json()[0]
    (attachment,) = saved["attachments"]
    assert attachment["filesize"] == 1000
    kept = await post_articles(
        client,
        headers,
        [{"id": saved["id"], "name": "Doc v2", "attachments": [{"id": attachment["id"]}]}],
    )
    assert kept.status_code == 200
    assert state.articles[saved["id"]]["attachments"][0]["filesize"] == 1000


async def test_single_object_response_switch(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    state.single_object_response = True
    one = await post_articles(client, headers, [{"name": "Solo"}])
    assert one.json()["name"] == "Solo"
    two = await post_articles(client, headers, [{"name": "A"}, {"name": "B"}])
    assert isinstance(two.json(), list)


# ---------------------------------------------------------------------- customers (/api/Client)
async def customer_headers(client: httpx.AsyncClient, state: HaloState) -> dict[str, str]:
    state.granted_scopes |= {"read:customers"}
    return await auth(client, "read:kb edit:kb read:customers")


async def test_clients_are_listed_paged_and_searched(
    client: httpx.AsyncClient, state: HaloState
) -> None:
    for n in range(7):
        state.add_client(f"Client {n}")
    gone = state.add_client("Gone Ltd", inactive=True)
    headers = await customer_headers(client, state)

    everything = (await client.get("/api/Client", headers=headers)).json()
    page = await client.get(
        "/api/Client",
        params={"pageinate": "true", "page_size": 3, "page_no": 3},
        headers=headers,
    )
    found = await client.get("/api/Client", params={"search": "CLIENT 4"}, headers=headers)
    with_inactive = await client.get(
        "/api/Client", params={"includeinactive": "true"}, headers=headers
    )

    assert everything["record_count"] == 7 and len(everything["clients"]) == 7
    assert page.json() == {"record_count": 7, "clients": [everything["clients"][6]]}
    assert [c["name"] for c in found.json()["clients"]] == ["Client 4"]
    assert gone["id"] in {c["id"] for c in with_inactive.json()["clients"]}
    area = halo_document().document["components"]["schemas"]["Area"]["properties"]
    for item in everything["clients"]:
        assert set(item) <= set(area)


async def test_one_client_or_404(client: httpx.AsyncClient, state: HaloState) -> None:
    acme = state.add_client("Acme")
    headers = await customer_headers(client, state)

    one = await client.get(f"/api/client/{acme['id']}", headers=headers)
    missing = await client.get("/api/Client/999", headers=headers)

    assert one.status_code == 200 and one.json()["name"] == "Acme"
    assert missing.status_code == 404
    assert state.log.count("GET", "/api/Client") == 2  # one spelling in the log


async def test_clients_need_the_customers_scope(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    state.add_client("Acme")
    response = await client.get("/api/Client", headers=headers)
    assert response.status_code == 403
    assert "read:customers" in response.text


# ---------------------------------------------------------------------- tenant variants
PROBE_LIKE = {
    "name": "Probe",
    "description": "<p>body</p>",
    "description_html": "<p>body</p>",
    "tag_string": "hudu,hudu-article-0",
    "attachments": [{"filename": "a.txt", "data_base64": "aGk=", "isimage": False}],
}


async def test_a_restriction_to_a_client_is_kept_and_an_unknown_client_refused(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    acme = state.add_client("Acme")
    restricted = {**PROBE_LIKE, "kbentryclientaccess": [{"client_id": acme["id"]}]}

    saved = (await post_articles(client, headers, [{**restricted, "showforall": False}])).json()
    refused = await post_articles(
        client, headers, [{**PROBE_LIKE, "kbentryclientaccess": [{"client_id": 999}]}]
    )
    cleared = await post_articles(
        client, headers, [{"id": saved[0]["id"], "kbentryclientaccess": []}]
    )

    (access,) = saved[0]["kbentryclientaccess"]
    assert (access["client_id"], access["client_name"]) == (acme["id"], "Acme")
    assert saved[0]["showforall"] is False
    assert refused.status_code == 400
    assert list(refused.json()) == ["[0].kbentryclientaccess[0].client_id"]
    assert cleared.json()[0]["kbentryclientaccess"] == []


async def test_tags_written_as_objects_fill_tag_string(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    body = {"name": "Tagged", "tags": [{"text": "hudu"}, {"text": "hudu-article-5"}]}
    (saved,) = (await post_articles(client, headers, [body])).json()
    assert saved["tag_string"] == "hudu,hudu-article-5"
    assert [a["id"] for a in state.articles_with_tag("hudu-article-5")] == [saved["id"]]


@pytest.mark.parametrize(
    ("switch", "lost"),
    [
        ("ignore_tag_string", "tag_string"),
        ("ignore_description_html", "description_html"),
        ("drop_post_attachments", "attachments"),
        ("ignore_client_access", "kbentryclientaccess"),
    ],
)
async def test_each_variant_drops_only_its_field(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState, switch: str, lost: str
) -> None:
    acme = state.add_client("Acme")
    body = {**PROBE_LIKE, "kbentryclientaccess": [{"client_id": acme["id"]}]}
    setattr(state, switch, True)

    (saved,) = (await post_articles(client, headers, [body])).json()
    detail = (
        await client.get(f"/api/KBArticle/{saved['id']}?includedetails=true", headers=headers)
    ).json()

    kept = {
        "tag_string": "hudu-article-0" in detail["tag_string"],
        "description_html": detail["description_html"] == "<p>body</p>",
        "attachments": len(detail["attachments"]) == 1,
        "kbentryclientaccess": bool(detail.get("kbentryclientaccess")),
    }
    assert kept == {field: field != lost for field in kept}
    assert detail["description"] == "<p>body</p>"


async def test_the_variants_still_refuse_what_the_spec_refuses(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    for switch in ("ignore_tag_string", "drop_post_attachments", "ignore_client_access"):
        setattr(state, switch, True)
    bad = await post_articles(client, headers, [{**PROBE_LIKE, "tag_strnig": "x"}])
    not_base64 = await post_articles(
        client,
        headers,
        [{"name": "x", "attachments": [{"filename": "x", "data_base64": "!!"}]}],
    )
    unknown_client = await post_articles(
        client, headers, [{"name": "x", "kbentryclientaccess": [{"client_id": 5}]}]
    )
    assert bad.status_code == not_base64.status_code == unknown_client.status_code == 400
    assert state.articles == {}


async def test_no_link_and_a_search_that_ignores_tags(
    client: httpx.AsyncClient, headers: dict[str, str], state: HaloState
) -> None:
    state.omit_article_link = True
    state.search_matches_tags = False
    (saved,) = (await post_articles(client, headers, [PROBE_LIKE])).json()
    by_tag = await client.get(
        "/api/KBArticle", params={"search": "hudu-article-0"}, headers=headers
    )
    by_name = await client.get("/api/KBArticle", params={"search": "probe"}, headers=headers)

    assert "link" not in saved
    assert by_tag.json()["record_count"] == 0
    assert [a["id"] for a in by_name.json()["articles"]] == [saved["id"]]
