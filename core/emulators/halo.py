"""An in-memory emulator of HaloPSA's auth server and the Knowledge Base parts of its REST API.

It is strict on purpose: every JSON body sent to `/api/*` is validated against
`specs/halo-openapi-kb.json` (unknown members and wrong types are refused with ASP.NET
model-state 400s, and nothing is stored), tokens expire, scopes are enforced, and the failures
users meet with the real service (docs/hudu-and-halo.md, section "Halo") are switches on
`HaloState`: the rolling 300-per-5-minutes limit, 403 on KB delete, the FAQ-list 400s, the AI
duplicate detection 500, the 25 MB attachment limit, and a connection that drops after a write
was committed. Routes match case-insensitively, as ASP.NET's do.

What no tenant has shown yet (docs/hudu-and-halo.md#to-probe) is a switch too, so tests can
play every answer the probe may meet: a tenant that ignores `tag_string`, `description_html` or
`kbentryclientaccess`, drops attachments sent inside the article POST, allows DELETE, leaves the
article's `link` out, whose search does not look at tags, or whose image endpoint needs a ticket.
Customers (`/api/Client`) are in `halo_clients`; images (`/api/Attachment/image`) in
`halo_images`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from core.emulators.common import FaultMiddleware, FaultSwitches, RequestLog
from core.emulators.halo_clients import (
    READ_CUSTOMERS,
    client_json,
    client_listing,
    new_client,
    one_page,
)
from core.emulators.halo_images import ImageFile, read_image_form
from core.emulators.openapi import ModelState, add_error, halo_document

READ_KB = "read:kb"
EDIT_KB = "edit:kb"
ALL_SCOPE = "all"
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
API_PREFIX = "/api"

_CANONICAL_PATHS = (
    "/api/KBArticle",
    "/api/Client",
    "/api/FAQLists",
    "/api/authinfo",
    "/api/Attachment",
    "/api/ExternalLink",
    "/auth/token",
)
_LIST_FIELDS = (
    "id",
    "name",
    "description",
    "view_count",
    "useful_count",
    "notuseful_count",
    "date_created",
    "date_edited",
    "tag_string",
    "inactive",
    "type",
    "next_review_date",
    "customfields",
    "limit_start_date",
    "limit_end_date",
    "editor_type",
    "kb_tags",
    "confluence_url",
    "search_score",
    "resolution_list",
    "link",
    "use",
)
_ARTICLE_SERVER_FIELDS = frozenset(
    {"id", "view_count", "useful_count", "notuseful_count", "date_created", "date_edited"}
    | {"creator_id", "creator_name", "editor_id", "editor_name", "search_score", "link"}
    | {"your_vote", "faqlists", "attachments"}
)
_FAQLIST_SERVER_FIELDS = frozenset(
    {"id", "guid", "level", "group_name", "full_name", "article_count", "fullgroup_name"}
    | {"grandparent_name", "greatgrandparent_name", "greatgreatgrandparent_name"}
    | {"greatgreatgreatgrandparent_name"}
)
_ANCESTOR_FIELDS = (
    "grandparent_name",
    "greatgrandparent_name",
    "greatgreatgrandparent_name",
    "greatgreatgreatgrandparent_name",
)
_ATTACHMENT_OUT_FIELDS = ("id", "filename", "filesize", "isimage", "datecreated", "type")
_DATA_URL = re.compile(r"^data:[^,]*;base64,", re.IGNORECASE)
_TAG_SPLIT = re.compile(r"[,;\s]+")

FAQ_LISTS_DISABLED = (
    "Articles cannot be added to FAQ Lists. Enable 'Allow Articles to be added to FAQ Lists' "
    "in Configuration > Knowledge Base."
)
FAQ_GROUP_MISCONFIGURED = (
    "The article cannot be added to this FAQ list. Check 'Use this FAQ list for grouping other "
    "FAQ lists' on the group list and the 'FAQ Group' of this list."
)
AI_DUPLICATE_MESSAGE = (
    "An error occurred while running AI duplicate detection on the article: the AI generated "
    "summary could not be compared with existing articles."
)


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app after a committed write, so an in-process client (ASGITransport) sees
    the same kind of error a socket client sees when the server closes mid-response."""


@dataclass(frozen=True, slots=True)
class _Token:
    expires_at: float
    scopes: frozenset[str]


@dataclass
class HaloState:
    """Everything the emulated Halo tenant holds, and the switches tests and the demo turn."""

    client_id: str = "hhsync-client"
    client_secret: str = field(default="hhsync-secret", repr=False)
    tenant: str | None = None
    granted_scopes: set[str] = field(default_factory=lambda: {READ_KB, EDIT_KB})
    base_url: str = "http://halo.test"
    clock: Callable[[], float] = field(default=time.time, repr=False)
    log: RequestLog = field(default_factory=RequestLog, repr=False)
    switches: FaultSwitches = field(default_factory=FaultSwitches)
    rate_limit: int | None = 300
    rate_window_seconds: float = 300
    send_retry_after: bool = False
    token_lifetime: int = 3600
    ai_duplicate_detection: bool = False
    reject_article_names: dict[str, int] = field(default_factory=dict)
    faq_lists_allowed: bool = True
    delete_forbidden: bool = True
    drop_after_commit: int = 0
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES
    single_object_response: bool = False
    """Answer a one-article KBArticle POST with the object instead of a one-element array."""
    # The tenant variants the probe tells apart (docs/hudu-and-halo.md#to-probe). A KBArticle
    # POST is still validated against the spec; the tenant then keeps less of it.
    ignore_tag_string: bool = False
    """`tag_string` in a POST is dropped; tags written as `tags: [{text}]` are kept."""
    ignore_description_html: bool = False
    ignore_client_access: bool = False
    """`kbentryclientaccess` in a POST is dropped (the article stays unrestricted)."""
    drop_post_attachments: bool = False
    """Attachments inside an article POST are checked, then not kept."""
    omit_article_link: bool = False
    """Articles have no `link` field."""
    search_matches_tags: bool = True
    """`GET /KBArticle?search=` looks at the tags too (else only the name and description)."""
    image_needs_ticket: bool = False
    """`POST /Attachment/image` without a `ticket_id` is refused (400)."""
    images: dict[str, ImageFile] = field(default_factory=dict, repr=False)
    """Images stored by `POST /Attachment/image`, by the token of their link."""
    ignore_faqlist_third_party_id: bool = False
    """`third_party_id` in a FAQ list POST is dropped (lists are found by name then)."""
    faqlist_groups_nest: bool = True
    """A group list may be inside another group (the spec's `level` and ancestor names say
    lists nest); off, such a POST is refused on `group_id`."""
    articles: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    faqlists: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    clients: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    tokens: dict[str, _Token] = field(default_factory=dict, repr=False)
    _hits: deque[float] = field(default_factory=deque, repr=False)
    _ids: dict[str, int] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ for tests and seeds
    def live_articles(self) -> list[dict[str, Any]]:
        return [a for a in self.articles.values() if not a.get("inactive")]

    def articles_with_tag(self, tag: str) -> list[dict[str, Any]]:
        """Articles whose `tag_string` holds `tag` as a whole tag (comma or space separated)."""
        return [a for a in self.articles.values() if tag in split_tags(a.get("tag_string"))]

    def add_faqlist(
        self,
        name: str,
        *,
        is_group: bool = False,
        group_id: int | None = None,
        showforall: bool = False,
        third_party_id: str | None = None,
    ) -> dict[str, Any]:
        fields = {"name": name, "is_group": is_group, "showforall": showforall}
        if group_id is not None:
            fields["group_id"] = group_id
        if third_party_id is not None:
            fields["third_party_id"] = third_party_id
        return self._save_faqlist(None, fields)

    def add_article(
        self,
        name: str,
        *,
        description: str = "",
        description_html: str = "",
        tag_string: str = "",
        faqlist_ids: Iterable[int] = (),
        inactive: bool = False,
    ) -> dict[str, Any]:
        fields = {
            "name": name,
            "description": description,
            "description_html": description_html,
            "tag_string": tag_string,
            "inactive": inactive,
        }
        return self._save_article(None, fields, list(faqlist_ids), None)

    def add_client(
        self, name: str, *, inactive: bool = False, toplevel_id: int | None = None
    ) -> dict[str, Any]:
        """A Halo customer (an `Area`); its id comes from the tenant's own sequence."""
        client = new_client(
            self._next_id("client"), name, inactive=inactive, toplevel_id=toplevel_id
        )
        self.clients[client["id"]] = client
        return client

    def edit_in_halo(self, article_id: int, **fields: Any) -> dict[str, Any]:
        """An agent edits an article in Halo's own screens (a test switch for drift): the
        fields are checked against the spec as a KBArticle POST's would be, and `date_edited`
        and the editor move as for any save."""
        validator = halo_document().body_validator("POST", "/KBArticle")
        assert validator is not None
        errors = validator.errors([{"id": article_id, **fields}])
        if errors:
            raise ValueError(f"not a valid KBEntry edit: {errors}")
        article = self.articles[article_id]
        article.update({k: v for k, v in fields.items() if k not in _ARTICLE_SERVER_FIELDS})
        article.update(date_edited=self._edit_stamp(article), editor_id=2, editor_name="Halo Agent")
        return article

    def archive_in_halo(self, article_id: int) -> dict[str, Any]:
        """An agent archives an article in Halo (inactive)."""
        return self.edit_in_halo(article_id, inactive=True)

    def delete_in_halo(self, article_id: int) -> None:
        """An agent deletes an article in Halo (the agent's role may; the API's may not)."""
        del self.articles[article_id]

    def issue_token(self, scopes: Iterable[str] | None = None) -> str:
        """A valid bearer token without the HTTP round trip."""
        token = secrets.token_urlsafe(32)
        granted = frozenset(self.granted_scopes if scopes is None else scopes)
        self.tokens[token] = _Token(self.clock() + self.token_lifetime, granted)
        return token

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def now_iso(self) -> str:
        return _iso_ms(datetime.fromtimestamp(self.clock(), UTC))

    # ------------------------------------------------------------------ internals
    def _edit_stamp(self, article: dict[str, Any]) -> str:
        """`date_edited` for a save: now, and later than the save before, even within one ms."""
        edited, previous = self.now_iso(), article.get("date_edited")
        if isinstance(previous, str) and edited <= previous:
            edited = _iso_ms(datetime.fromisoformat(previous) + timedelta(milliseconds=1))
        return edited

    def _next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def _take_request(self) -> float | None:
        """Count one request in the rolling window; the seconds to wait when it is over."""
        if self.rate_limit is None:
            return None
        now = self.clock()
        horizon = now - self.rate_window_seconds
        while self._hits and self._hits[0] <= horizon:
            self._hits.popleft()
        if len(self._hits) >= self.rate_limit:
            return max(0.0, self._hits[0] - horizon)
        self._hits.append(now)
        return None

    def _save_faqlist(
        self, existing: dict[str, Any] | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        kept = {k: v for k, v in fields.items() if k not in _FAQLIST_SERVER_FIELDS}
        if self.ignore_faqlist_third_party_id:
            kept.pop("third_party_id", None)
        if existing is None:
            existing = {
                "id": self._next_id("faqlist"),
                "guid": str(uuid.uuid4()),
                "name": "",
                "is_group": False,
                "group_id": None,
                "showforall": False,
                "showforallagents": True,
                "type": 0,
                "third_party_id": None,
            }
            self.faqlists[existing["id"]] = existing
        existing.update(kept)
        if not existing.get("group_id"):
            existing["group_id"] = None
        return existing

    def _save_article(
        self,
        existing: dict[str, Any] | None,
        fields: dict[str, Any],
        faqlist_ids: list[int] | None,
        attachments: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        now = self.now_iso()
        if existing is None:
            article_id = self._next_id("article")
            existing = {
                "id": article_id,
                "name": "",
                "description": "",
                "description_html": "",
                "tag_string": "",
                "inactive": False,
                "type": 0,
                "view_count": 0,
                "useful_count": 0,
                "notuseful_count": 0,
                "date_created": now,
                "creator_id": 1,
                "creator_name": "API Application",
                "link": f"{self.base_url}/kb?id={article_id}",
                "faqlists": [],
                "attachments": [],
            }
            if self.omit_article_link:
                del existing["link"]
            self.articles[article_id] = existing
        kept = {k: v for k, v in fields.items() if k not in _ARTICLE_SERVER_FIELDS}
        tags = kept.pop("tags", None)
        access = kept.pop("kbentryclientaccess", None)
        existing.update(kept)
        if tags is not None:
            texts = [t["text"] for t in tags if isinstance(t, dict) and t.get("text")]
            existing["tags"] = [{"id": n, "text": text} for n, text in enumerate(texts, 1)]
            existing["tag_string"] = ",".join(texts)
        if access is not None:
            existing["kbentryclientaccess"] = [
                {
                    "id": n,
                    "client_id": entry["client_id"],
                    "client_name": self.clients[entry["client_id"]]["name"],
                    "kb_id": existing["id"],
                }
                for n, entry in enumerate(access, 1)
            ]
        existing.update(
            date_edited=self._edit_stamp(existing), editor_id=1, editor_name="API Application"
        )
        if faqlist_ids is not None:
            existing["faqlists"] = [
                {"id": i, "name": self.faqlists[i]["name"]} for i in faqlist_ids
            ]
        if attachments is not None:
            for attachment in attachments:
                if "id" not in attachment:
                    attachment.update(id=self._next_id("attachment"), datecreated=now)
            existing["attachments"] = attachments
        return existing

    def faqlist_groups(self, faq: dict[str, Any]) -> list[dict[str, Any]]:
        """The groups a list is in, its own group first (a loop cannot be saved)."""
        groups: list[dict[str, Any]] = []
        group = self.faqlists.get(faq.get("group_id") or 0)
        while group is not None and group not in groups:
            groups.append(group)
            group = self.faqlists.get(group.get("group_id") or 0)
        return groups

    def faqlist_json(self, faq: dict[str, Any]) -> dict[str, Any]:
        out = dict(faq)
        groups = self.faqlist_groups(faq)
        names = [g["name"] for g in groups]
        out["level"] = len(groups)
        out["group_name"] = names[0] if names else None
        for depth, field_name in enumerate(_ANCESTOR_FIELDS, start=1):
            out[field_name] = names[depth] if len(names) > depth else None
        out["fullgroup_name"] = "/".join(reversed(names)) or None
        out["full_name"] = "/".join([*reversed(names), faq["name"]])
        out["article_count"] = sum(
            1
            for a in self.articles.values()
            if any(f["id"] == faq["id"] for f in a.get("faqlists", ()))
        )
        return out

    def article_list_json(self, article: dict[str, Any]) -> dict[str, Any]:
        return {k: article[k] for k in _LIST_FIELDS if k in article}

    def article_detail_json(self, article: dict[str, Any]) -> dict[str, Any]:
        out = dict(article)
        out["faqlists"] = [
            {"id": f["id"], "name": self.faqlists.get(f["id"], f)["name"]}
            for f in article.get("faqlists", ())
        ]
        out["attachments"] = [
            {k: a[k] for k in _ATTACHMENT_OUT_FIELDS if k in a} for a in article["attachments"]
        ]
        return out


def _iso_ms(moment: datetime) -> str:
    """Halo's timestamps as the emulator writes them: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def split_tags(tag_string: str | None) -> set[str]:
    return {t for t in _TAG_SPLIT.split(tag_string or "") if t}


# ---------------------------------------------------------------------- responses
class _Reject(Exception):
    """Ends a handler early with a ready response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _model_state(errors: ModelState) -> JSONResponse:
    return JSONResponse(errors, status_code=400)


def _dotnet_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ClassName": "System.Exception", "Message": message}, status_code=status)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _dotnet_fault_body(status: int) -> tuple[bytes, str]:
    body = {"ClassName": "System.Exception", "Message": f"The server returned {status}."}
    return json.dumps(body).encode(), "application/json"


class _DroppedResponse(Response):
    """Sends the headers and half the body, then breaks: the client never gets an answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        half = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        raise ConnectionDropped("Server disconnected without sending a complete response.")


# ---------------------------------------------------------------------- the API
@dataclass
class _ArticlePlan:
    existing: dict[str, Any] | None
    fields: dict[str, Any]
    faqlist_ids: list[int] | None
    attachments: list[dict[str, Any]] | None

    @property
    def name(self) -> str:
        if "name" in self.fields:
            return self.fields["name"] or ""
        return self.existing["name"] if self.existing else ""


Handler = Callable[[Request], Awaitable[Response]]


class _HaloApi:
    def __init__(self, state: HaloState) -> None:
        self.state = state
        self.spec = halo_document()
        self._spec_regexes: list[tuple[str, re.Pattern[str]]] | None = None

    # ------------------------------------------------------------------ plumbing
    def _authorize(self, request: Request, scope: str) -> None:
        header = request.headers.get("authorization", "")
        kind, _, value = header.partition(" ")
        token = self.state.tokens.get(value.strip()) if kind.lower() == "bearer" else None
        if token is None:
            raise _Reject(self._unauthorized("Access token invalid"))
        if token.expires_at <= self.state.clock():
            raise _Reject(self._unauthorized("Access token expired"))
        if scope not in token.scopes and ALL_SCOPE not in token.scopes:
            resource = _route_path(request.scope).removeprefix(API_PREFIX + "/").split("/")[0]
            raise _Reject(
                PlainTextResponse(
                    f"You don't have permissions to {request.method.lower()} {resource}. "
                    f"The access token lacks the scope '{scope}'.",
                    status_code=403,
                )
            )

    @staticmethod
    def _unauthorized(message: str) -> JSONResponse:
        return JSONResponse(
            {"message": message},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def _query(self, request: Request, method: str, template: str) -> dict[str, Any]:
        values, errors = self.spec.query_parameters(method, template).parse(
            request.query_params.multi_items()
        )
        if errors:
            raise _Reject(_model_state(errors))
        return values

    async def _json_body(self, request: Request, method: str, template: str) -> Any:
        """The parsed body, or a rejection exactly where ASP.NET would refuse it."""
        validator = self.spec.body_validator(method, template)
        if validator is None:
            raise RuntimeError(f"{method} {template} takes no JSON body in the spec")
        if not validator.accepts_media_type(request.headers.get("content-type", "")):
            raise _Reject(
                JSONResponse(
                    {"title": "Unsupported Media Type", "status": 415},
                    status_code=415,
                )
            )
        raw = await request.body()
        if not raw.strip():
            raise _Reject(_model_state({"": ["A non-empty request body is required."]}))
        try:
            body = json.loads(raw, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise _Reject(
                _model_state(
                    {
                        "": [
                            f"Unexpected character encountered while parsing value: {exc.msg}. "
                            f"Path '', line {exc.lineno}, position {exc.colno}."
                        ]
                    }
                )
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Reject(_model_state({"": [f"Invalid JSON: {exc}."]})) from None
        errors = validator.errors(body)
        if errors:
            raise _Reject(_model_state(errors))
        return body

    def routes(self) -> list[Route]:
        table: list[tuple[str, str, Handler]] = [
            ("/auth/token", "POST", self.token),
            ("/api/authinfo", "GET", self.authinfo),
            ("/api/FAQLists", "GET", self.list_faqlists),
            ("/api/FAQLists", "POST", self.post_faqlists),
            ("/api/FAQLists/{id:int}", "GET", self.get_faqlist),
            ("/api/KBArticle", "GET", self.list_articles),
            ("/api/KBArticle", "POST", self.post_articles),
            ("/api/KBArticle/{id:int}", "GET", self.get_article),
            ("/api/KBArticle/{id:int}", "DELETE", self.delete_article),
            ("/api/Client", "GET", self.list_clients),
            ("/api/Client/{id:int}", "GET", self.get_client),
            ("/api/Attachment/image", "POST", self.post_image),
            ("/api/Attachment/image", "GET", self.get_image),
        ]
        routes: list[Route] = [
            _CaseInsensitiveRoute(path, _guarded(h), methods=[m]) for path, m, h in table
        ]
        every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        routes.append(_CaseInsensitiveRoute("/{path:path}", _guarded(self.fallback), methods=every))
        return routes

    async def fallback(self, request: Request) -> Response:
        """Spec operations not emulated answer 501; spec paths with another method 405."""
        path = _route_path(request.scope)
        methods = [m for m, regex in self._spec_paths() if regex.match(path)]
        if request.method in methods:
            return _dotnet_error(501, f"{request.method} {path} is not emulated by hhsync.")
        if methods:
            return PlainTextResponse("Method Not Allowed", status_code=405)
        return JSONResponse({"Message": f"No resource matches {path}."}, status_code=404)

    def _spec_paths(self) -> list[tuple[str, re.Pattern[str]]]:
        if self._spec_regexes is None:
            self._spec_regexes = [
                (method, _template_regex(template)) for method, template in self.spec.operations()
            ]
        return self._spec_regexes

    # ------------------------------------------------------------------ auth
    async def token(self, request: Request) -> Response:
        state = self.state
        if state.tenant and request.query_params.get("tenant") != state.tenant:
            return _oauth_error(400, "invalid_request", "Unknown or missing tenant.")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return _oauth_error(
                400,
                "invalid_request",
                "The token request must be application/x-www-form-urlencoded.",
            )
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Use client_credentials.")
        id_ok = secrets.compare_digest(form.get("client_id", ""), state.client_id)
        secret_ok = secrets.compare_digest(form.get("client_secret", ""), state.client_secret)
        if not (id_ok and secret_ok):
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        requested = set(form.get("scope", "").split())
        if not requested or requested == {ALL_SCOPE}:
            requested = set(state.granted_scopes)
        if not requested <= state.granted_scopes:
            missing = " ".join(sorted(requested - state.granted_scopes))
            return _oauth_error(400, "invalid_scope", f"Scope not granted: {missing}.")
        token = state.issue_token(requested)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": state.token_lifetime,
                "scope": " ".join(sorted(requested)),
            }
        )

    async def authinfo(self, request: Request) -> Response:
        return JSONResponse(
            {"auth_url": f"{self.state.base_url}/auth", "tenant_id": self.state.tenant}
        )

    # ------------------------------------------------------------------ FAQ lists
    async def list_faqlists(self, request: Request) -> Response:
        self._authorize(request, READ_KB)
        query = self._query(request, "GET", "/FAQLists")
        lists = sorted(self.state.faqlists.values(), key=lambda f: f["id"])
        if "parent_id" in query:
            lists = [f for f in lists if (f.get("group_id") or 0) == query["parent_id"]]
        if query.get("endoftreeonly"):
            lists = [f for f in lists if not f.get("is_group")]
        if "type" in query:
            lists = [f for f in lists if f.get("type", 0) == query["type"]]
        return JSONResponse([self.state.faqlist_json(f) for f in lists])

    async def get_faqlist(self, request: Request) -> Response:
        self._authorize(request, READ_KB)
        self._query(request, "GET", "/FAQLists/{id}")
        faq = self.state.faqlists.get(request.path_params["id"])
        if faq is None:
            return _not_found("FAQListHead", request.path_params["id"])
        return JSONResponse(self.state.faqlist_json(faq))

    async def post_faqlists(self, request: Request) -> Response:
        self._authorize(request, EDIT_KB)
        body = await self._json_body(request, "POST", "/FAQLists")
        state = self.state
        faqlists = state.faqlists
        errors: ModelState = {}
        plans: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
        for index, item in enumerate(body):
            existing = None
            if item.get("id"):
                existing = faqlists.get(item["id"])
                if existing is None:
                    add_error(errors, f"[{index}].id", f"FAQListHead {item['id']} does not exist.")
            elif not (item.get("name") or "").strip():
                add_error(errors, f"[{index}].name", "The name field is required.")
            group_id = item.get("group_id")
            if group_id:
                group = faqlists.get(group_id)
                if group is None or not group.get("is_group"):
                    add_error(
                        errors,
                        f"[{index}].group_id",
                        f"FAQ list {group_id} is not a group: 'Use this FAQ list for grouping "
                        "other FAQ lists' is off or the list does not exist.",
                    )
                elif existing is not None and existing in [group, *state.faqlist_groups(group)]:
                    add_error(errors, f"[{index}].group_id", "A FAQ list cannot group itself.")
                elif not state.faqlist_groups_nest and (
                    item.get("is_group") or (existing or {}).get("is_group")
                ):
                    add_error(
                        errors, f"[{index}].group_id", "A FAQ group cannot be in another group."
                    )
            plans.append((existing, item))
        if errors:
            return _model_state(errors)
        saved = [self.state._save_faqlist(existing, item) for existing, item in plans]
        return JSONResponse([self.state.faqlist_json(f) for f in saved])

    # ------------------------------------------------------------------ customers
    async def list_clients(self, request: Request) -> Response:
        self._authorize(request, READ_CUSTOMERS)
        query = self._query(request, "GET", "/Client")
        return JSONResponse(client_listing(self.state.clients.values(), query))

    async def get_client(self, request: Request) -> Response:
        self._authorize(request, READ_CUSTOMERS)
        self._query(request, "GET", "/Client/{id}")
        client = self.state.clients.get(request.path_params["id"])
        if client is None:
            return _not_found("Area", request.path_params["id"])
        return JSONResponse(client_json(client))

    # ------------------------------------------------------------------ images
    async def post_image(self, request: Request) -> Response:
        self._authorize(request, EDIT_KB)
        query = self._query(request, "POST", "/Attachment/image")
        if self.state.image_needs_ticket and not query.get("ticket_id"):
            return _model_state({"ticket_id": ["The ticket_id field is required."]})
        image, errors = read_image_form(
            request.headers.get("content-type", ""),
            await request.body(),
            self.state.max_attachment_bytes,
        )
        if image is None:
            return _model_state(errors)
        token = secrets.token_urlsafe(24)
        self.state.images[token] = image
        return JSONResponse({"link": f"/api/attachment/image?token={token}"})

    async def get_image(self, request: Request) -> Response:
        """A capability URL: the token is the only right needed."""
        query = self._query(request, "GET", "/Attachment/image")
        image = self.state.images.get(str(query.get("token") or ""))
        if image is None:
            return _not_found("Image", 0)
        return Response(image[1], media_type=image[2])

    # ------------------------------------------------------------------ KB articles
    async def list_articles(self, request: Request) -> Response:
        """`count` caps the matches before paging and `record_count` counts what it left;
        `page_size` and `page_no` only apply with `pageinate=true` (an inferred Halo behaviour:
        docs/hudu-and-halo.md#halo-pagination)."""
        self._authorize(request, READ_KB)
        query = self._query(request, "GET", "/KBArticle")
        items = sorted(self.state.articles.values(), key=lambda a: a["id"])
        include_inactive = query.get("includeinactive", False)
        include_active = query.get("includeactive", True)
        items = [a for a in items if (include_inactive if a.get("inactive") else include_active)]
        if search := (query.get("search") or "").lower():
            fields: tuple[str, ...] = ("name", "description", "tag_string")
            if not self.state.search_matches_tags:
                fields = ("name", "description")
            items = [a for a in items if any(search in (a.get(k) or "").lower() for k in fields)]
        if "faqlists" in query:
            wanted = _id_list(query["faqlists"], "faqlists")
            items = [a for a in items if any(f["id"] in wanted for f in a.get("faqlists", ()))]
        order = query.get("order")
        if order in _LIST_FIELDS:
            items.sort(
                key=lambda a: (a.get(order) is None, a.get(order) or 0),
                reverse=bool(query.get("orderdesc")),
            )
        record_count, items = one_page(items, query)
        return JSONResponse(
            {
                "record_count": record_count,
                "articles": [self.state.article_list_json(a) for a in items],
            }
        )

    async def get_article(self, request: Request) -> Response:
        self._authorize(request, READ_KB)
        query = self._query(request, "GET", "/KBArticle/{id}")
        article = self.state.articles.get(request.path_params["id"])
        if article is None:
            return _not_found("KBEntry", request.path_params["id"])
        if query.get("includedetails"):
            return JSONResponse(self.state.article_detail_json(article))
        return JSONResponse(self.state.article_list_json(article))

    async def delete_article(self, request: Request) -> Response:
        self._authorize(request, EDIT_KB)
        article_id = request.path_params["id"]
        if self.state.delete_forbidden:
            return PlainTextResponse(
                "You don't have permissions to delete KBArticle.", status_code=403
            )
        if self.state.articles.pop(article_id, None) is None:
            return _not_found("KBEntry", article_id)
        return JSONResponse({"id": article_id})

    async def post_articles(self, request: Request) -> Response:
        self._authorize(request, EDIT_KB)
        body = await self._json_body(request, "POST", "/KBArticle")
        state = self.state
        errors: ModelState = {}
        plans = [self._plan_article(index, item, errors) for index, item in enumerate(body)]
        if errors:
            return _model_state(errors)
        for index, plan in enumerate(plans):
            status = state.reject_article_names.get(plan.name)
            if status == 400:
                add_error(errors, f"[{index}].faqlists", FAQ_GROUP_MISCONFIGURED)
            elif status is not None:
                return _dotnet_error(status, f"An error occurred saving article '{plan.name}'.")
        if errors:
            return _model_state(errors)
        if state.ai_duplicate_detection and plans:
            return _dotnet_error(500, AI_DUPLICATE_MESSAGE)
        saved = [
            state._save_article(
                p.existing,
                self._kept_fields(p.fields),
                p.faqlist_ids,
                None if state.drop_post_attachments else p.attachments,
            )
            for p in plans
        ]
        payload: Any = [state.article_detail_json(a) for a in saved]
        if state.single_object_response and len(payload) == 1:
            payload = payload[0]
        if state.drop_after_commit > 0:
            state.drop_after_commit -= 1
            return _DroppedResponse(json.dumps(payload).encode(), media_type="application/json")
        return JSONResponse(payload)

    def _kept_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """What of a valid article the tenant keeps, as its variant switches say."""
        state = self.state
        dropped = {
            "tag_string": state.ignore_tag_string,
            "description_html": state.ignore_description_html,
            "kbentryclientaccess": state.ignore_client_access,
        }
        return {k: v for k, v in fields.items() if not dropped.get(k, False)}

    def _plan_article(self, index: int, item: dict[str, Any], errors: ModelState) -> _ArticlePlan:
        """Check one KBEntry of a POST against the tenant's data; nothing is stored yet."""
        state = self.state
        at = f"[{index}]"
        existing = None
        if item.get("id"):
            existing = state.articles.get(item["id"])
            if existing is None:
                add_error(errors, f"{at}.id", f"KBEntry {item['id']} does not exist.")
        elif not (item.get("name") or "").strip():
            add_error(errors, f"{at}.name", "The name field is required.")
        faqlist_ids = None
        if item.get("faqlists") is not None:
            faqlist_ids = self._plan_faqlists(at, item["faqlists"], errors)
        attachments = None
        if item.get("attachments") is not None:
            attachments = self._plan_attachments(at, item["attachments"], existing, errors)
        for position, entry in enumerate(item.get("kbentryclientaccess") or ()):
            client_id = entry.get("client_id")
            if client_id not in state.clients:
                add_error(
                    errors,
                    f"{at}.kbentryclientaccess[{position}].client_id",
                    f"Client {client_id} does not exist.",
                )
        return _ArticlePlan(existing, item, faqlist_ids, attachments)

    def _plan_faqlists(
        self, at: str, entries: list[dict[str, Any]], errors: ModelState
    ) -> list[int]:
        if entries and not self.state.faq_lists_allowed:
            add_error(errors, f"{at}.faqlists", FAQ_LISTS_DISABLED)
            return []
        ids: list[int] = []
        for position, entry in enumerate(entries):
            key = f"{at}.faqlists[{position}].id"
            faq = self.state.faqlists.get(entry.get("id") or 0)
            if faq is None:
                add_error(errors, key, f"FAQ list {entry.get('id')} does not exist.")
            elif faq.get("is_group"):
                add_error(
                    errors,
                    key,
                    f"FAQ list {faq['id']} ('{faq['name']}') groups other FAQ lists: articles go "
                    "in the lists inside the group.",
                )
            elif faq["id"] not in ids:
                ids.append(faq["id"])
        return ids

    def _plan_attachments(
        self,
        at: str,
        entries: list[dict[str, Any]],
        existing: dict[str, Any] | None,
        errors: ModelState,
    ) -> list[dict[str, Any]]:
        current = {a["id"]: a for a in (existing or {}).get("attachments", ())}
        limit = self.state.max_attachment_bytes
        planned: list[dict[str, Any]] = []
        for position, entry in enumerate(entries):
            key = f"{at}.attachments[{position}]"
            data = entry.get("data_base64")
            if data is None:
                if entry.get("id") in current:
                    planned.append(current[entry["id"]])
                else:
                    add_error(
                        errors, key, "An attachment needs data_base64, or the id of one it has."
                    )
                continue
            filename = (entry.get("filename") or "").strip()
            if not filename:
                add_error(errors, f"{key}.filename", "The filename field is required.")
            encoded = _DATA_URL.sub("", data, count=1)
            if len(encoded) * 3 // 4 > limit + 3:
                add_error(
                    errors, f"{key}.data_base64", _too_large(filename, len(encoded) * 3 // 4, limit)
                )
                continue
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                add_error(
                    errors,
                    f"{key}.data_base64",
                    f"The input is not a valid Base-64 string ('{filename}').",
                )
                continue
            if len(raw) > limit:
                add_error(errors, f"{key}.data_base64", _too_large(filename, len(raw), limit))
                continue
            planned.append(
                {
                    "filename": filename,
                    "filesize": len(raw),
                    "isimage": bool(entry.get("isimage")),
                    "type": entry.get("type") or 0,
                    "data_base64": encoded,
                }
            )
        return planned


def _too_large(filename: str, size: int, limit: int) -> str:
    return (
        f"The file '{filename}' is {size / 1048576:.1f} MB: attachments larger than "
        f"{limit / 1048576:g} MB cannot be uploaded."
    )


def _not_found(kind: str, item_id: int) -> JSONResponse:
    return JSONResponse({"Message": f"{kind} {item_id} not found."}, status_code=404)


def _id_list(raw: str, name: str) -> set[int]:
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise _Reject(_model_state({name: [f"The value '{raw}' is not valid."]})) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{API_PREFIX}{pattern}/?$", re.IGNORECASE)


def _route_path(scope: Scope) -> str:
    """The path below the mount point (Starlette keeps the mount prefix in `path`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _guarded(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except _Reject as rejected:
            return rejected.response

    return endpoint


class _CaseInsensitiveRoute(Route):
    """ASP.NET routes ignore case and a trailing slash; Starlette's do not."""

    def __init__(self, path: str, endpoint: Handler, *, methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods)
        pattern = self.path_regex.pattern.removesuffix("$").removesuffix("/") + "/?$"
        self.path_regex = re.compile(pattern, re.IGNORECASE)


class _RateGate:
    """Halo's rolling window: every request, token requests included, counts."""

    def __init__(self, app: ASGIApp, state: HaloState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            wait = self.state._take_request()
            if wait is not None:
                limit, window = self.state.rate_limit, self.state.rate_window_seconds
                headers = (
                    {"Retry-After": str(math.ceil(wait))} if self.state.send_retry_after else {}
                )
                response = PlainTextResponse(
                    f"Rate Limit Reached - {limit} Requests per rolling "
                    f"{window / 60:g} minute window",
                    status_code=429,
                    headers=headers,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _CanonicalPaths:
    """Rewrites `/api/kbarticle` to `/api/KBArticle` so the request log counts one spelling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.lowered = [(p.lower(), p) for p in _CANONICAL_PATHS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = _route_path(scope)
            mount = scope["path"][: len(scope["path"]) - len(path)]
            lowered = path.lower()
            for prefix, canonical in self.lowered:
                if lowered == prefix or lowered.startswith(prefix + "/"):
                    if not path.startswith(canonical):
                        scope = {**scope, "path": mount + canonical + path[len(canonical) :]}
                    break
        await self.app(scope, receive, send)


def create_halo_app(state: HaloState) -> ASGIApp:
    """The emulator as one ASGI app: paths canonicalised, logged and faulted, rate limited."""
    api = _HaloApi(state)
    app = Starlette(routes=api.routes())
    return _CanonicalPaths(
        FaultMiddleware(
            _RateGate(app, state),
            state.log,
            state.switches,
            error_body=_dotnet_fault_body,
            clock=lambda: state.clock(),
        )
    )
