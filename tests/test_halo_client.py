"""HaloClient: exact requests over httpx.MockTransport, behaviour against the Halo emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from core.emulators.halo import HaloState, create_halo_app
from core.errorbody import message_from_body
from core.errors import (
    AuthError,
    HaloAuthError,
    HaloError,
    MalformedResponseError,
    WriteUncertainError,
)
from core.faqlists import find_faqlist
from core.halo import HaloClient
from core.halo_facts import api_root
from core.halo_json import parse_faqlist
from core.models import NewFaqList, marker_for
from tests.test_ratelimit import FakeTime, LowJitter

CLIENT_ID = "app-client-id"
SECRET = "s3cr3t-client-secret-value"
Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, time: FakeTime | None = None, tenant: str = "") -> HaloClient:
    time = time or FakeTime()
    return HaloClient(
        "https://acme.halopsa.com",
        "",
        CLIENT_ID,
        SECRET,
        tenant=tenant,
        transport=httpx.MockTransport(handler),
        clock=time.clock,
        wall_clock=time.clock,
        sleep=time.sleep,
        rng=LowJitter(),
    )


class FakeHalo:
    """A scripted Halo: hands out numbered tokens, answers API calls with `api(request)`."""

    def __init__(self, api: Handler, lifetime: int = 3600) -> None:
        self.api = api
        self.lifetime = lifetime
        self.tokens = 0
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            self.token_requests.append(request)
            self.tokens += 1
            body = {"access_token": f"tok-{self.tokens}-abcdef", "token_type": "Bearer"}
            return httpx.Response(
                200, json=body | {"expires_in": self.lifetime, "scope": "read:kb"}
            )
        self.api_requests.append(request)
        return self.api(request)


def ok(body: object) -> Handler:
    return lambda request: httpx.Response(200, json=body)


def test_api_root() -> None:
    assert api_root("https://acme.halopsa.com/") == "https://acme.halopsa.com/api"
    assert api_root("https://acme.halopsa.com/api") == "https://acme.halopsa.com/api"


# ---------------------------------------------------------------- token
async def test_token_request_form_tenant_and_bearer_header() -> None:
    fake = FakeHalo(ok([]))
    async with mock_client(fake, tenant="acme") as halo:
        assert await halo.list_faqlists() == []
        assert await halo.list_faqlists() == []
    (token_request,) = fake.token_requests
    assert str(token_request.url) == "https://acme.halopsa.com/auth/token?tenant=acme"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(token_request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
        "scope": ["read:kb edit:kb"],
    }
    assert [r.headers["authorization"] for r in fake.api_requests] == ["Bearer tok-1-abcdef"] * 2
    assert fake.api_requests[0].url.path == "/api/FAQLists"


async def test_token_is_renewed_a_minute_before_it_expires() -> None:
    time = FakeTime()
    fake = FakeHalo(ok([]), lifetime=600)
    async with mock_client(fake, time) as halo:
        await halo.list_faqlists()
        time.now += 539
        await halo.list_faqlists()
        time.now += 2  # 59 s left
        await halo.list_faqlists()
    assert fake.tokens == 2
    assert fake.api_requests[-1].headers["authorization"] == "Bearer tok-2-abcdef"


async def test_a_401_renews_once_and_retries_once() -> None:
    answers = iter([httpx.Response(401, json={"message": "Access token expired"})])

    def api(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(200, json=[]))

    fake = FakeHalo(api)
    async with mock_client(fake) as halo:
        assert await halo.list_faqlists() == []
    assert fake.tokens == 2
    assert [r.headers["authorization"] for r in fake.api_requests] == [
        "Bearer tok-1-abcdef",
        "Bearer tok-2-abcdef",
    ]


async def test_a_second_401_is_an_auth_error() -> None:
    fake = FakeHalo(lambda r: httpx.Response(401, json={"message": "Access token invalid"}))
    async with mock_client(fake) as halo:
        with pytest.raises(HaloAuthError) as caught:
            await halo.list_faqlists()
    assert len(fake.api_requests) == 2 and fake.tokens == 2
    assert "HALO_CLIENT_ID" in caught.value.hint


async def test_rejected_credentials_name_the_variables_and_hide_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # a careless server that echoes the form back
        body = {"error": "invalid_client", "error_description": request.content.decode()}
        return httpx.Response(401, json=body)

    halo = mock_client(handler)
    async with halo:
        with pytest.raises(HaloAuthError) as caught:
            await halo.check_credentials()
    error = caught.value
    assert error.status == 401 and error.path == "/auth/token"
    assert "invalid_client" in str(error)
    assert "HALO_CLIENT_ID and HALO_CLIENT_SECRET" in error.hint
    for text in (str(error), repr(error), error.hint, repr(halo), repr(halo.session)):
        assert SECRET not in text


async def test_the_access_token_never_reaches_an_error() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text=f"denied for {request.headers['authorization']}")

    async with mock_client(FakeHalo(api)) as halo:
        with pytest.raises(HaloAuthError) as caught:
            await halo.list_faqlists()
    assert "tok-1-abcdef" not in str(caught.value)
    assert "read:kb edit:kb" in caught.value.hint


# ---------------------------------------------------------------- articles and lists
def echo_articles(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)
    return httpx.Response(
        200, json=[{"id": item.get("id") or 100 + i} | item for i, item in enumerate(sent)]
    )


async def test_upsert_sends_one_array_and_returns_refs_in_order() -> None:
    fake = FakeHalo(echo_articles)
    payloads: list[dict[str, Any]] = [
        {"name": "First", "tag_string": f"hudu,{marker_for(1)}", "faqlists": [{"id": 3}]},
        {"id": 55, "name": "Second", "tag_string": marker_for(2)},
    ]
    async with mock_client(fake) as halo:
        refs = await halo.upsert_articles(payloads)
    assert [(r.id, r.name) for r in refs] == [(100, "First"), (55, "Second")]
    assert refs[0].faqlist_ids == (3,) and refs[0].has_marker(marker_for(1))
    (request,) = fake.api_requests
    assert request.method == "POST" and request.url.path == "/api/KBArticle"
    assert json.loads(request.content) == payloads


async def test_upsert_accepts_a_single_object() -> None:
    fake = FakeHalo(ok({"id": 9, "name": "Only", "tag_string": ""}))
    async with mock_client(fake) as halo:
        (ref,) = await halo.upsert_articles([{"name": "Only"}])
    assert ref.id == 9


@pytest.mark.parametrize(
    "answer",
    [
        [{"id": 1, "name": "A"}],
        [{"id": 2, "name": "B"}, {"id": 1, "name": "A"}],
        [{"id": 1, "name": "A", "tag_string": "hudu-article-9"}, {"id": 2, "name": "B"}],
        {"articles": []},
    ],
)
async def test_upsert_answers_that_do_not_match_are_malformed(answer: object) -> None:
    payloads = [{"name": "A", "tag_string": "hudu-article-1"}, {"name": "B"}]
    async with mock_client(FakeHalo(ok(answer))) as halo:
        with pytest.raises(MalformedResponseError) as caught:
            await halo.upsert_articles(payloads)
    assert caught.value.service == "Halo"


async def test_find_by_marker_pages_and_keeps_exact_tags_only() -> None:
    rows = [
        {"id": i, "name": f"N{i}", "tag_string": f"hudu, hudu-article-{1 if i % 50 == 0 else 12}"}
        for i in range(1, 151)
    ]

    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page_no"])
        chunk = rows[(page - 1) * 100 : page * 100]
        return httpx.Response(200, json={"record_count": len(rows), "articles": chunk})

    fake = FakeHalo(api)
    async with mock_client(fake) as halo:
        found = await halo.find_articles_by_marker("hudu-article-1")
    assert [r.id for r in found] == [50, 100, 150]
    params = [dict(r.url.params) for r in fake.api_requests]
    assert params[0] == {
        "search": "hudu-article-1",
        "includeinactive": "true",
        "pageinate": "true",
        "page_size": "100",
        "page_no": "1",
    }
    assert [p["page_no"] for p in params] == ["1", "2"]


async def test_faqlists_in_both_envelopes() -> None:
    lists = [{"id": 1, "name": "Hudu", "is_group": True, "group_id": 0, "third_party_id": None}]
    for body in (lists, {"FAQLists": lists}):
        async with mock_client(FakeHalo(ok(body))) as halo:
            (only,) = await halo.list_faqlists()
        assert (only.group_id, only.third_party_id, only.is_group) == (None, "", True)


# ---------------------------------------------------------------- retries and writes
async def test_429_backs_off_exponentially_without_retry_after() -> None:
    time = FakeTime()
    answers = iter([httpx.Response(429, text="Rate Limit Reached")] * 3)
    fake = FakeHalo(lambda r: next(answers, httpx.Response(200, json=[])))
    async with mock_client(fake, time) as halo:
        await halo.upsert_articles([])  # no request at all
        await halo.list_faqlists()
    assert time.sleeps == [5.0, 10.0, 20.0]


async def test_a_503_after_several_429s_still_gets_its_own_retries() -> None:
    """Rate limits and server errors have separate budgets: four 429s do not use up the
    attempts a 503 is given (it failed the request at once before)."""
    time = FakeTime()
    busy = [httpx.Response(429, text="Rate Limit Reached")] * 4
    answers = iter([*busy, httpx.Response(503), httpx.Response(503)])
    fake = FakeHalo(lambda r: next(answers, httpx.Response(200, json=[])))
    async with mock_client(fake, time) as halo:
        assert await halo.list_faqlists() == []
    assert len(time.sleeps) == 6


async def test_429_on_a_post_is_retried_and_honours_retry_after() -> None:
    time = FakeTime()
    answers = iter([httpx.Response(429, headers={"Retry-After": "42"})])
    fake = FakeHalo(lambda r: next(answers, echo_articles(r)))
    async with mock_client(fake, time) as halo:
        (ref,) = await halo.upsert_articles([{"name": "X"}])
    assert ref.name == "X"
    assert time.sleeps == [42.0]
    assert len(fake.api_requests) == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_a_post_that_may_have_landed_is_not_retried(failure: Exception) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        raise failure

    time = FakeTime()
    fake = FakeHalo(api)
    async with mock_client(fake, time) as halo:
        with pytest.raises(WriteUncertainError) as caught:
            await halo.upsert_articles([{"name": "X"}])
    assert len(fake.api_requests) == 1 and time.sleeps == []
    assert caught.value.method == "POST" and caught.value.path == "/api/KBArticle"


async def test_a_post_that_never_connected_is_retried() -> None:
    attempts = 0

    def api(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise httpx.ConnectError("refused")
        return echo_articles(request)

    async with mock_client(FakeHalo(api)) as halo:
        assert len(await halo.upsert_articles([{"name": "X"}])) == 1
    assert attempts == 2


async def test_a_post_answered_by_a_gateway_error_is_uncertain() -> None:
    fake = FakeHalo(lambda r: httpx.Response(504, text="Gateway Time-out"))
    async with mock_client(fake) as halo:
        with pytest.raises(WriteUncertainError) as caught:
            await halo.upsert_articles([{"name": "X"}])
    assert caught.value.status == 504 and len(fake.api_requests) == 1


async def test_a_500_on_get_is_retried_but_not_on_post() -> None:
    time = FakeTime()
    answers = iter([httpx.Response(500, json={"ClassName": "System.Exception", "Message": "x"})])
    fake = FakeHalo(lambda r: next(answers, httpx.Response(200, json=[])))
    async with mock_client(fake, time) as halo:
        assert await halo.list_faqlists() == []
    assert len(time.sleeps) == 1


# ---------------------------------------------------------------- error bodies
@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(400, json={"Message": "Bad thing"}), "Bad thing"),
        (httpx.Response(500, json={"ClassName": "System.Exception", "Message": "Boom"}), "Boom"),
        (httpx.Response(401, json={"message": "Access token expired"}), "Access token expired"),
        (
            httpx.Response(400, json={"error": "invalid_scope", "error_description": "No"}),
            "invalid_scope: No",
        ),
        (httpx.Response(400, json={"error": "invalid_client"}), "invalid_client"),
        (
            httpx.Response(400, json={"[0].faqlists": ["Not allowed."], "[1].name": ["Needed."]}),
            "[0].faqlists: Not allowed.; [1].name: Needed.",
        ),
        (httpx.Response(400, json={"errors": {"id": ["Bad id."]}, "title": "x"}), "id: Bad id."),
        (
            httpx.Response(403, text="You don't have permissions\nmore"),
            "You don't have permissions",
        ),
        (httpx.Response(429, text="Retry later"), "Retry later"),
        (httpx.Response(502, text=""), "Bad Gateway"),
        (httpx.Response(404, text="<html><body>nope</body></html>"), "web page (HTML)"),
    ],
)
def test_message_from_body(response: httpx.Response, expected: str) -> None:
    assert expected in message_from_body(response)


# ---------------------------------------------------------------- against the emulator
def emulator(time: FakeTime | None = None, **switches: object) -> tuple[HaloState, HaloClient]:
    time = time or FakeTime()
    state = HaloState(client_id=CLIENT_ID, client_secret=SECRET, tenant="acme", clock=time.clock)
    for name, value in switches.items():
        setattr(state, name, value)
    client = HaloClient(
        state.base_url,
        f"{state.base_url}/auth",
        CLIENT_ID,
        SECRET,
        tenant="acme",
        transport=httpx.ASGITransport(app=create_halo_app(state)),
        clock=time.clock,
        wall_clock=time.clock,
        sleep=time.sleep,
        rng=LowJitter(),
    )
    return state, client


async def test_emulator_credentials_authinfo_and_tenant() -> None:
    _, client = emulator()
    async with client as halo:
        assert await halo.check_credentials() == {"read:kb", "edit:kb"}
        assert (await halo.authinfo())["tenant_id"] == "acme"
    _state, client = emulator()
    client.tenant = ""
    async with client as halo:
        with pytest.raises(HaloAuthError) as caught:
            await halo.check_credentials()
    assert "tenant" in str(caught.value) and "HALO_TENANT" in caught.value.hint


async def test_emulator_token_expiry_and_revocation() -> None:
    time = FakeTime()
    state, client = emulator(time, token_lifetime=300)
    async with client as halo:
        await halo.list_faqlists()
        time.now += 250  # 50 s left: renewed before use
        await halo.list_faqlists()
        state.expire_tokens()  # revoked server-side: 401, renew, retry
        await halo.list_faqlists()
    assert state.log.count("POST", "/auth/token") == 3
    assert [e.status for e in state.log.matching("GET")] == [200, 200, 401, 200]


async def test_emulator_faq_lists_find_or_create() -> None:
    state, client = emulator()
    async with client as halo:
        group = await halo.create_faqlist(
            "Hudu", is_group=True, group_id=None, showforall=False, third_party_id="hudu:root"
        )
        central = await halo.create_faqlist(
            "Central KB",
            is_group=False,
            group_id=group.id,
            showforall=True,
            third_party_id="hudu:central",
        )
        companies = await halo.save_faqlists(
            [
                NewFaqList("Acme", False, group.id, False, "hudu:company:1"),
                NewFaqList("Globex", False, group.id, False, "hudu:company:2"),
            ]
        )
        lists = await halo.list_faqlists()
    assert [(c.name, c.third_party_id) for c in companies] == [
        ("Acme", "hudu:company:1"),
        ("Globex", "hudu:company:2"),
    ]
    assert len(lists) == 4 and state.log.count("POST", "/api/FAQLists") == 3
    assert group.is_group and group.group_id is None
    assert (central.group_id, central.showforall, central.third_party_id) == (
        group.id,
        True,
        "hudu:central",
    )
    assert find_faqlist(lists, third_party_id="hudu:central", name="x", group_id=None) == central
    # a list made for another scope is never taken over by name ...
    assert find_faqlist(lists, third_party_id="", name="central kb", group_id=group.id) is None
    assert find_faqlist(lists, third_party_id="hudu:company:9", name="Acme", group_id=1) is None
    # ... but one made by hand (no third-party id) is adopted by name within the group
    by_hand = parse_faqlist(state.add_faqlist("Initech", group_id=group.id))
    assert find_faqlist(
        [*lists, by_hand], third_party_id="x", name="initech", group_id=group.id
    ) == (by_hand)


async def test_emulator_upsert_batch_update_search_and_archive() -> None:
    state, client = emulator()
    faq = state.add_faqlist("Central KB")
    state.add_article("Someone else's", tag_string="hudu-article-12")
    payloads = [
        {
            "name": f"Article {i}",
            "description": f"<p>{i}</p>",
            "description_html": f"<p>{i}</p>",
            "faqlists": [{"id": faq["id"]}],
            "tag_string": f"hudu,{marker_for(i)}",
            "inactive": False,
        }
        for i in (1, 2, 3)
    ]
    async with client as halo:
        refs = await halo.upsert_articles(payloads)
        updated = await halo.upsert_articles([{"id": refs[1].id, "name": "Renamed"}])
        found = await halo.find_articles_by_marker(marker_for(1))
        fetched = await halo.get_article(refs[0].id)
        missing = await halo.get_article(999)
        with pytest.raises(HaloError) as refused:
            await halo.delete_article(refs[2].id)
        archived = await halo.archive_article(refs[2].id)
        still_found = await halo.find_articles_by_marker(marker_for(3))
        state.delete_forbidden = False
        await halo.delete_article(refs[0].id)
        await halo.delete_article(refs[0].id)  # already gone: fine
    assert [r.name for r in refs] == ["Article 1", "Article 2", "Article 3"]
    assert all(r.faqlist_ids == (faq["id"],) for r in refs)
    assert updated[0].name == "Renamed" and state.articles[refs[1].id]["name"] == "Renamed"
    assert [r.id for r in found] == [refs[0].id]
    assert fetched is not None and fetched.has_marker(marker_for(1))
    assert missing is None
    assert refused.value.status == 403 and not isinstance(refused.value, AuthError)
    assert "Delete" in refused.value.hint
    assert archived.inactive and state.articles[refs[2].id]["inactive"] is True
    assert [r.inactive for r in still_found] == [True]
    assert refs[0].id not in state.articles
    assert state.log.count("POST", "/api/KBArticle") == 3


async def test_emulator_single_object_answer() -> None:
    state, client = emulator(single_object_response=True)
    async with client as halo:
        (ref,) = await halo.upsert_articles([{"name": "Solo"}])
    assert state.articles[ref.id]["name"] == "Solo"


@pytest.mark.parametrize(
    ("switches", "status", "hint"),
    [
        ({"faq_lists_allowed": False}, 400, "Allow Articles to be added to FAQ Lists"),
        ({"ai_duplicate_detection": True}, 500, "AI Article Duplication Detection"),
        ({"max_attachment_bytes": 10}, 400, "25 MB"),
    ],
)
async def test_emulator_configuration_errors_carry_hints(
    switches: dict[str, Any], status: int, hint: str
) -> None:
    state, client = emulator(**switches)
    faq = state.add_faqlist("Central KB")
    payload = {
        "name": "A",
        "faqlists": [{"id": faq["id"]}],
        "attachments": [
            {"filename": "big.pdf", "data_base64": "QUJDREVGR0hJSktMTU5PUA==", "isimage": False}
        ],
    }
    async with client as halo:
        with pytest.raises(HaloError) as caught:
            await halo.upsert_articles([payload])
    assert caught.value.status == status
    assert hint in caught.value.hint
    assert state.articles == {}


async def test_emulator_unknown_field_is_refused_without_a_misleading_hint() -> None:
    _state, client = emulator()
    async with client as halo:
        with pytest.raises(HaloError) as caught:
            await halo.upsert_articles([{"name": "A", "keywords": "x"}])
    assert "Could not find member 'keywords'" in str(caught.value)
    assert caught.value.hint == ""


async def test_emulator_dropped_connection_after_commit_is_not_retried() -> None:
    state, client = emulator(drop_after_commit=1)
    async with client as halo:
        with pytest.raises(WriteUncertainError):
            await halo.upsert_articles([{"name": "A", "tag_string": marker_for(7)}])
        found = await halo.find_articles_by_marker(marker_for(7))
    assert len(state.log.writes("/api/KBArticle")) == 1
    assert len(state.articles) == 1 and [r.name for r in found] == ["A"]


async def test_emulator_rate_limit_with_and_without_retry_after() -> None:
    time = FakeTime()
    state, client = emulator(time, rate_limit=3, rate_window_seconds=300)
    async with client as halo:
        for _ in range(3):  # token + 2 calls fill the window
            await halo.list_faqlists()
    assert [e.status for e in state.log.entries].count(429) == 8
    assert time.sleeps == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0, 60.0]
    time = FakeTime()
    _state, client = emulator(time, rate_limit=3, send_retry_after=True)
    async with client as halo:
        for _ in range(3):
            await halo.list_faqlists()
    assert time.sleeps == [300.0]


async def test_emulator_5xx_on_get_is_retried() -> None:
    state, client = emulator()
    async with client as halo:
        await halo.check_credentials()
        state.switches.fail_next = 1
        assert await halo.list_faqlists() == []
    assert [e.status for e in state.log.matching("GET")] == [503, 200]


async def test_emulator_search_reads_every_page() -> None:
    state, client = emulator()
    for n in range(250):
        state.add_article(f"Doc {n}", tag_string=f"hudu,{marker_for(n)}")
    state.add_article("Not ours", tag_string="other")

    async with client:
        found = await client.search_articles("hudu-article-")

    assert sorted(ref.id for ref in found) == sorted(
        a["id"] for a in state.articles.values() if a["name"] != "Not ours"
    )
    assert state.log.count("GET", "/api/KBArticle") == 3


# ---------------------------------------------------------------- customers, probe verdicts
def customer_emulator(
    optional: tuple[str, ...] = ("read:customers",), granted: set[str] | None = None
) -> tuple[HaloState, HaloClient]:
    time = FakeTime()
    state = HaloState(client_id=CLIENT_ID, client_secret=SECRET, clock=time.clock)
    state.granted_scopes = granted if granted is not None else {"read:kb", "edit:kb"}
    client = HaloClient(
        state.base_url,
        "",
        CLIENT_ID,
        SECRET,
        optional_scopes=optional,
        transport=httpx.ASGITransport(app=create_halo_app(state)),
        clock=time.clock,
        wall_clock=time.clock,
        sleep=time.sleep,
        rng=LowJitter(),
    )
    return state, client


async def test_customers_are_listed_in_one_paged_listing() -> None:
    state, client = customer_emulator(granted={"read:kb", "edit:kb", "read:customers"})
    for n in range(230):
        state.add_client(f"Client {n:03}")
    state.add_client("Former", inactive=True)

    async with client:
        assert await client.can_read_customers()
        customers = await client.list_customers()
        one = await client.get_customer(5)
        former = await client.get_customer(231)
        nobody = await client.get_customer(9999)

    assert len(customers) == 230 and not any(c.inactive for c in customers)
    listings = [e for e in state.log.matching("GET", "/api/Client") if e.path == "/api/Client"]
    assert len(listings) == 3  # 100 per page
    assert one is not None and one.name == "Client 004"
    assert former is not None and former.inactive
    assert nobody is None


async def test_an_optional_scope_the_application_lacks_is_dropped_once() -> None:
    state, client = customer_emulator()

    async with client:
        granted = await client.check_credentials()
        can_read = await client.can_read_customers()
        await client.check_credentials()

    assert granted == {"read:kb", "edit:kb"} and not can_read
    assert client.refused_scopes == ("read:customers",)
    statuses = [e.status for e in state.log.matching("POST", "/auth/token")]
    assert statuses == [400, 200, 200]  # refused once, never asked again


async def test_an_optional_scope_granted_is_kept() -> None:
    _state, client = customer_emulator(granted={"read:kb", "edit:kb", "read:customers"})
    async with client:
        assert await client.check_credentials() == {"read:kb", "edit:kb", "read:customers"}
    assert client.refused_scopes == ()


async def test_a_missing_required_scope_still_fails_with_the_optional_one_dropped() -> None:
    _state, client = customer_emulator(granted={"read:kb"})
    async with client:
        with pytest.raises(HaloAuthError) as caught:
            await client.check_credentials()
    assert "edit:kb" in str(caught.value) and "read:customers" not in str(caught.value)


async def test_probe_verdicts_change_urls_removals_and_searches() -> None:
    state, client = customer_emulator()
    faq = state.add_faqlist("Hudu", is_group=True)
    kb = state.add_faqlist("Central KB", group_id=faq["id"])
    article = state.add_article("Doc", faqlist_ids=[kb["id"]])
    elsewhere = state.add_article("Doc")
    client.article_url_template = "https://halo.example/portal/kb?id={id}"
    client.delete_refused = True

    async with client:
        in_list = await client.search_articles("Doc", faqlist_id=kb["id"])
        refused = await client.retire_article(article["id"])

    assert client.article_url(12) == "https://halo.example/portal/kb?id=12"
    assert [r.id for r in in_list] == [article["id"]] and elsewhere["id"] != article["id"]
    assert refused == 403 and state.articles[article["id"]]["inactive"] is True
    assert state.log.count("DELETE") == 0
