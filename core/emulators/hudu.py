"""An in-memory emulator of Hudu's REST API v1 (the read side a KB sync uses).

It follows `specs/hudu-swagger-kb.json` and the behaviours in docs/hudu-and-halo.md: `x-api-key`
auth, 25-per-page pagination without totals, `updated_at` ranges, archived articles listed with
`archived: true`, `public_photos` as objects, uploads as a bare array with `?download=true`
(200 bytes or 302 to storage), Rack::Attack's fixed 5-minute window answering 429 `Retry later`.
Tests and seeds change the data through `HuduState`'s Python methods, not over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import random
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from core.emulators.common import FaultMiddleware, FaultSwitches, RequestLog

API_PREFIX = "/api/v1"
API_VERSION = "2.44.0"
API_DATE = "2026-06-30"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
_CHUNK = 64 * 1024
T = TypeVar("T")
_ARTICLE_FIELDS = frozenset(
    {"name", "content", "company_id", "folder_id", "draft", "archived", "enable_sharing"}
)
_TRUE = frozenset({"true", "t", "1"})
_FALSE = frozenset({"false", "f", "0"})
LOGIN_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>Sign in · Access</title></head>\n<body><main><h1>Sign in</h1>"
    "<p>Your organisation requires you to sign in before reaching this application.</p>"
    '<form method="post" action="/cdn-cgi/access/login"><label>Email '
    '<input type="email" name="email"></label><button>Send me a code</button></form>'
    "</main></body></html>\n"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ms(moment: datetime) -> datetime:
    """Hudu (Rails) shows times to the millisecond; storing them so makes exact filters work."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_time(moment: datetime) -> str:
    """Rails' JSON form of a UTC time: `2024-01-15T10:30:00.000Z`."""
    moment = _ms(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tiny_png(seed: int = 0, size: int = 8) -> bytes:
    """A valid PNG of one colour derived from `seed` (public photos need real image bytes)."""
    rgb = hashlib.sha256(str(seed).encode()).digest()[:3]
    raw = b"".join(b"\x00" + rgb * size for _ in range(size))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- records


@dataclass(slots=True)
class _Company:
    id: int
    name: str
    slug: str
    archived: bool
    created_at: datetime
    updated_at: datetime
    integrations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Folder:
    id: int
    name: str
    company_id: int | None
    parent_folder_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class _Article:
    id: int
    name: str
    content: str
    slug: str
    share_token: str
    company_id: int | None
    folder_id: int | None
    draft: bool | None
    archived: bool
    enable_sharing: bool
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class _Upload:
    id: int
    name: str
    ext: str
    mime: str
    size: int
    data: bytes | None
    uploadable_type: str
    uploadable_id: int
    created_at: datetime
    archived_at: datetime | None = None


@dataclass(slots=True)
class _Photo:
    numeric_id: int
    slug: str
    record_type: str
    record_id: int
    file_name: str
    data: bytes


class ApiFailure(Exception):
    """Raised inside a handler; answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- state


@dataclass
class HuduState:
    """Everything the emulated Hudu instance holds, plus its switches."""

    api_key: str = field(default="hudu-emulator-key", repr=False)
    base_url: str = "http://hudu.test"
    clock: Callable[[], datetime] = _utcnow
    log: RequestLog = field(default_factory=RequestLog)
    switches: FaultSwitches = field(default_factory=FaultSwitches)
    rate_limit: int | None = None
    rate_window_seconds: int = 300
    redirect_downloads: bool = False
    html_instead_of_json: bool = False
    slug_seed: int = 0
    companies: dict[int, _Company] = field(default_factory=dict, repr=False)
    folders: dict[int, _Folder] = field(default_factory=dict, repr=False)
    articles: dict[int, _Article] = field(default_factory=dict, repr=False)
    uploads: dict[int, _Upload] = field(default_factory=dict, repr=False)
    public_photos: dict[int, _Photo] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._rng = random.Random(self.slug_seed)
        self._slugs: set[str] = set()
        self._next_id: dict[str, int] = {}
        self._rate_window: int | None = None
        self._rate_count = 0
        self._signing_key = hashlib.sha256(f"storage:{self.slug_seed}".encode()).digest()
        self._photos_of: dict[int, list[int]] = {}
        self._photo_by_slug: dict[str, int] = {}

    # -- helpers
    def _new_id(self, kind: str) -> int:
        value = self._next_id.get(kind, 0) + 1
        self._next_id[kind] = value
        return value

    def _new_slug(self, length: int = 12) -> str:
        while True:
            slug = f"{self._rng.getrandbits(length * 4):0{length}x}"
            if slug not in self._slugs:
                self._slugs.add(slug)
                return slug

    def _now(self) -> datetime:
        return _ms(self.clock())

    def _article(self, article_id: int) -> _Article:
        try:
            return self.articles[article_id]
        except KeyError:
            raise KeyError(f"no Hudu article {article_id}") from None

    def _check_place(self, company_id: int | None, folder_id: int | None) -> None:
        if company_id is not None and company_id not in self.companies:
            raise ValueError(f"no Hudu company {company_id}")
        if folder_id is not None:
            folder = self.folders.get(folder_id)
            if folder is None:
                raise ValueError(f"no Hudu folder {folder_id}")
            if folder.company_id != company_id:
                raise ValueError(f"folder {folder_id} belongs to another knowledge base")

    # -- mutation API (tests and seeds)
    def add_company(self, name: str, archived: bool = False) -> dict[str, Any]:
        now = self._now()
        slug = f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{self._new_slug()}"
        company = _Company(self._new_id("company"), name, slug, archived, now, now)
        self.companies[company.id] = company
        return self.company_json(company)

    def update_company(self, company_id: int, **changes: Any) -> dict[str, Any]:
        """Rename or archive a company and bump its `updated_at`, as Hudu's edit does."""
        company = self.companies.get(company_id)
        if company is None:
            raise KeyError(f"no Hudu company {company_id}")
        unknown = set(changes) - {"name", "archived"}
        if unknown:
            raise TypeError(f"unknown company fields: {sorted(unknown)}")
        for key, value in changes.items():
            setattr(company, key, value)
        company.updated_at = self._now()
        return self.company_json(company)

    def add_integration(
        self,
        company_id: int,
        integrator_name: str,
        sync_id: int,
        identifier: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Link a company to a PSA's record, as Hudu's integrations do (`Company_Integration`):
        Hudu's Halo PSA integration is `integrator_name` "halo" with the Halo client id in
        `sync_id`."""
        company = self.companies.get(company_id)
        if company is None:
            raise ValueError(f"no Hudu company {company_id}")
        integration = {
            "id": self._new_id("integration"),
            "integrator_id": self._new_id("integrator"),
            "integrator_name": integrator_name,
            "sync_id": sync_id,
            "identifier": identifier,
            "name": name if name is not None else company.name,
            "potential_company_id": None,
            "company_id": company.id,
            "company_name": company.name,
        }
        company.integrations.append(integration)
        company.updated_at = self._now()
        return dict(integration)

    def add_folder(
        self, name: str, company_id: int | None = None, parent_folder_id: int | None = None
    ) -> dict[str, Any]:
        if company_id is not None and company_id not in self.companies:
            raise ValueError(f"no Hudu company {company_id}")
        if parent_folder_id is not None:
            parent = self.folders.get(parent_folder_id)
            if parent is None or parent.company_id != company_id:
                raise ValueError(f"no folder {parent_folder_id} in that knowledge base")
        now = self._now()
        folder = _Folder(self._new_id("folder"), name, company_id, parent_folder_id, now, now)
        self.folders[folder.id] = folder
        return self.folder_json(folder)

    def update_folder(
        self, folder_id: int, *, name: str | None = None, parent_folder_id: int | None = -1
    ) -> dict[str, Any]:
        """Rename a folder or move it under another of its knowledge base (`None`: to the
        top); its articles stay in it and keep their `updated_at`."""
        folder = self.folders.get(folder_id)
        if folder is None:
            raise ValueError(f"no Hudu folder {folder_id}")
        if parent_folder_id != -1:
            ancestor = self.folders.get(parent_folder_id) if parent_folder_id is not None else None
            if parent_folder_id is not None and (
                ancestor is None or ancestor.company_id != folder.company_id
            ):
                raise ValueError(f"no folder {parent_folder_id} in that knowledge base")
            while ancestor is not None:
                if ancestor.id == folder.id:
                    raise ValueError("a folder cannot move inside itself")
                parent = ancestor.parent_folder_id
                ancestor = self.folders.get(parent) if parent is not None else None
            folder.parent_folder_id = parent_folder_id
        if name is not None:
            folder.name = name
        folder.updated_at = self._now()
        return self.folder_json(folder)

    def add_article(
        self,
        name: str,
        content: str = "<p>…</p>",
        company_id: int | None = None,
        folder_id: int | None = None,
        draft: bool | None = False,
        archived: bool = False,
        enable_sharing: bool = False,
        *,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> dict[str, Any]:
        self._check_place(company_id, folder_id)
        now = self._now()
        created = _ms(created_at) if created_at else now
        article = _Article(
            id=self._new_id("article"),
            name=name,
            content=content,
            slug=self._new_slug(),
            share_token=self._new_slug(24),
            company_id=company_id,
            folder_id=folder_id,
            draft=draft,
            archived=archived,
            enable_sharing=enable_sharing,
            created_at=created,
            updated_at=_ms(updated_at) if updated_at else created,
        )
        self.articles[article.id] = article
        return self.article_json(article)

    def update_article(self, article_id: int, **changes: Any) -> dict[str, Any]:
        """Change fields of an article and bump `updated_at` (or set it with `updated_at=`)."""
        article = self._article(article_id)
        stamp = changes.pop("updated_at", None)
        unknown = set(changes) - _ARTICLE_FIELDS
        if unknown:
            raise TypeError(f"unknown article fields: {sorted(unknown)}")
        self._check_place(
            changes.get("company_id", article.company_id),
            changes.get("folder_id", article.folder_id),
        )
        for key, value in changes.items():
            setattr(article, key, value)
        article.updated_at = _ms(stamp) if stamp else self._now()
        return self.article_json(article)

    def delete_article(self, article_id: int) -> None:
        """Delete an article with its uploads and photos (Rails `dependent: :destroy`)."""
        self._article(article_id)
        del self.articles[article_id]
        for upload_id in [u.id for u in self.uploads.values() if u.uploadable_id == article_id]:
            del self.uploads[upload_id]
        for photo_id in self._photos_of.pop(article_id, []):
            del self._photo_by_slug[self.public_photos.pop(photo_id).slug]

    def add_upload(
        self,
        article_id: int,
        name: str,
        data: bytes | None = None,
        size: int | None = None,
        mime: str | None = None,
    ) -> dict[str, Any]:
        """Attach a file; without `data`, `size` deterministic bytes are made only when read."""
        self._article(article_id)
        if data is None and size is None:
            raise ValueError("add_upload needs data or size")
        if data is not None and size is not None and size != len(data):
            raise ValueError("size does not match len(data)")
        ext = name.rsplit(".", 1)[1].lower() if "." in name else ""
        upload = _Upload(
            id=self._new_id("upload"),
            name=name,
            ext=ext,
            mime=mime or mimetypes.guess_type(name)[0] or "application/octet-stream",
            size=len(data) if data is not None else int(size or 0),
            data=data,
            uploadable_type="Article",
            uploadable_id=article_id,
            created_at=self._now(),
        )
        self.uploads[upload.id] = upload
        return self.upload_json(upload)

    def add_public_photo(
        self, article_id: int, file_name: str, data: bytes | None = None
    ) -> dict[str, Any]:
        """Add an image to an article; its content can then use `/public_photo/<slug>`."""
        self._article(article_id)
        numeric_id = self._new_id("photo")
        photo = _Photo(
            numeric_id=numeric_id,
            slug=self._new_slug(),
            record_type="Article",
            record_id=article_id,
            file_name=file_name,
            data=data if data is not None else tiny_png(numeric_id),
        )
        self.public_photos[numeric_id] = photo
        self._photos_of.setdefault(article_id, []).append(numeric_id)
        self._photo_by_slug[photo.slug] = numeric_id
        return self.photo_json(photo)

    # -- reading (tests)
    def get_article(self, article_id: int) -> dict[str, Any]:
        return self.article_json(self._article(article_id))

    def photo_by_slug(self, slug: str) -> _Photo | None:
        photo_id = self._photo_by_slug.get(slug)
        return None if photo_id is None else self.public_photos[photo_id]

    def upload_bytes(self, upload_id: int) -> bytes:
        return b"".join(self.iter_upload_bytes(upload_id))

    def iter_upload_bytes(self, upload_id: int) -> Iterator[bytes]:
        upload = self.uploads[upload_id]
        if upload.data is not None:
            yield upload.data
            return
        block = random.Random(upload.id).randbytes(_CHUNK)
        remaining = upload.size
        while remaining > 0:
            piece = block[: min(remaining, _CHUNK)]
            remaining -= len(piece)
            yield piece

    # -- JSON shapes (spec definitions)
    def article_json(self, article: _Article) -> dict[str, Any]:
        return {
            "id": article.id,
            "slug": article.slug,
            "name": article.name,
            "draft": article.draft,
            "content": article.content,
            "url": f"{self.base_url}/kba/{article.slug}",
            "object_type": "Article",
            "folder_id": article.folder_id,
            "enable_sharing": article.enable_sharing,
            "share_url": (
                f"{self.base_url}/shared_article/{article.share_token}"
                if article.enable_sharing
                else None
            ),
            "company_id": article.company_id,
            "created_at": format_time(article.created_at),
            "updated_at": format_time(article.updated_at),
            "archived": article.archived,
            "public_photos": [
                self.photo_json(self.public_photos[n]) for n in self._photos_of.get(article.id, [])
            ],
        }

    def company_json(self, company: _Company) -> dict[str, Any]:
        path = f"/c/{company.slug}"
        return {
            "id": company.id,
            "slug": company.slug,
            "name": company.name,
            "nickname": None,
            "address_line_1": "",
            "address_line_2": None,
            "city": "",
            "state": "",
            "zip": "",
            "country_name": None,
            "phone_number": "",
            "company_type": None,
            "parent_company_id": None,
            "parent_company_name": None,
            "fax_number": "",
            "website": "",
            "notes": None,
            "archived": company.archived,
            "object_type": "Company",
            "id_number": "",
            "url": path,
            "full_url": f"{self.base_url}{path}",
            "passwords_url": f"{self.base_url}{path}/passwords",
            "knowledge_base_url": f"{self.base_url}{path}/knowledge_base",
            "created_at": format_time(company.created_at),
            "updated_at": format_time(company.updated_at),
            "integrations": [dict(i) for i in company.integrations],
        }

    def folder_json(self, folder: _Folder) -> dict[str, Any]:
        return {
            "id": folder.id,
            "company_id": folder.company_id,
            "icon": None,
            "description": "",
            "name": folder.name,
            "parent_folder_id": folder.parent_folder_id,
            "folder_type": "article",
            "created_at": format_time(folder.created_at),
            "updated_at": format_time(folder.updated_at),
        }

    def upload_json(self, upload: _Upload) -> dict[str, Any]:
        return {
            "id": upload.id,
            "url": f"{self.base_url}/file/{upload.id}",
            "name": upload.name,
            "ext": upload.ext,
            "mime": upload.mime,
            "size": str(upload.size),
            "created_date": format_time(upload.created_at),
            "archived_at": format_time(upload.archived_at) if upload.archived_at else None,
            "uploadable_id": upload.uploadable_id,
            "uploadable_type": upload.uploadable_type,
        }

    def photo_json(self, photo: _Photo) -> dict[str, Any]:
        return {
            "id": photo.slug,
            "numeric_id": photo.numeric_id,
            "url": f"{self.base_url}/public_photo/{photo.slug}",
            "record_type": photo.record_type,
            "record_id": photo.record_id,
            "file_name": photo.file_name,
            "file_size": len(photo.data),
        }

    # -- rate limit (Rack::Attack fixed window on the clock)
    def take_request(self) -> bool:
        """Count one API request; False when this window's budget is spent."""
        if self.rate_limit is None:
            return True
        window = int(self.clock().timestamp()) // self.rate_window_seconds
        if window != self._rate_window:
            self._rate_window, self._rate_count = window, 0
        self._rate_count += 1
        return self._rate_count <= self.rate_limit

    def storage_signature(self, upload_id: int) -> str:
        return hmac.new(self._signing_key, str(upload_id).encode(), "sha256").hexdigest()[:32]


# ---------------------------------------------------------------- query parsing


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if value not in (None, "") else None


def _int_param(request: Request, name: str) -> int | None:
    value = _param(request, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiFailure(400, f"{name} must be an integer") from None


def _bool_param(request: Request, name: str) -> bool | None:
    value = _param(request, name)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ApiFailure(400, f"{name} must be true or false")


def _paginate(request: Request, items: list[Any]) -> list[Any]:
    page = _int_param(request, "page")
    page_size = _int_param(request, "page_size")
    page = 1 if page is None else page
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if page < 1:
        raise ApiFailure(400, "page must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiFailure(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    start = (page - 1) * page_size
    return items[start : start + page_size]


_OFFSET_AFTER_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def _parse_moment(text: str) -> tuple[datetime, bool]:
    """Parse an ISO 8601 date or date-time leniently; the flag says it was a date only."""
    text = text.strip()
    # An unescaped "+" in a query string arrives as a space before the offset.
    text = _OFFSET_AFTER_SPACE.sub(r"+\1", text)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC), True
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiFailure(400, f"updated_at: {text!r} is not an ISO 8601 date or time") from None
    return _ms(moment), False


def _updated_at_range(value: str) -> tuple[datetime | None, datetime | None]:
    """`start,` / `,end` / `start,end` (inclusive) or one exact value (a date means that day)."""
    parts = value.split(",")
    if len(parts) > 2:
        raise ApiFailure(400, "updated_at must be 'start,end', 'start,', ',end' or one time")
    if len(parts) == 1:
        moment, date_only = _parse_moment(parts[0])
        if date_only:
            return moment, moment + timedelta(days=1) - timedelta(milliseconds=1)
        return moment, moment
    start = end = None
    if parts[0].strip():
        start = _parse_moment(parts[0])[0]
    if parts[1].strip():
        end, date_only = _parse_moment(parts[1])
        if date_only:
            end += timedelta(days=1) - timedelta(milliseconds=1)
    return start, end


# ---------------------------------------------------------------- the app


def _path_id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except ValueError:
        raise ApiFailure(404, "Not Found") from None


def _not_found() -> JSONResponse:
    return JSONResponse({"status": 404, "error": "Not Found"}, status_code=404)


class _HasId(Protocol):
    id: int


R = TypeVar("R", bound=_HasId)


def _listing(
    request: Request, found: Iterable[R], key: str, to_json: Callable[[R], dict[str, Any]]
) -> Response:
    """`GET /{kind}`: one page of `found` in id order as `{key: [...]}`."""
    page = _paginate(request, sorted(found, key=lambda item: item.id))
    return JSONResponse({key: [to_json(item) for item in page]})


def _one(
    request: Request, table: Mapping[int, T], key: str, to_json: Callable[[T], dict[str, Any]]
) -> Response:
    """`GET /{kind}/{id}`: `{key: record}`, or Hudu's 404."""
    item = table.get(_path_id(request))
    if item is None:
        return _not_found()
    return JSONResponse({key: to_json(item)})


def _rails_error(status: int) -> tuple[bytes, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = JSONResponse({"status": status, "error": phrase}).body
    return bytes(body), "application/json; charset=utf-8"


class _ApiGate:
    """What stands in front of Rails: a proxy (HTML switch), Rack::Attack, then the key check."""

    def __init__(self, app: ASGIApp, state: HuduState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").removeprefix(scope.get("root_path", ""))
        if scope["type"] != "http" or not path.startswith(API_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        response: Response | None = None
        if state.html_instead_of_json:
            response = Response(LOGIN_PAGE, 200, media_type="text/html; charset=utf-8")
        elif not state.take_request():
            response = PlainTextResponse("Retry later", 429)
        else:
            headers = dict(scope["headers"])
            key = headers.get(b"x-api-key", b"").decode("latin-1")
            if not key or not hmac.compare_digest(key, state.api_key):
                response = JSONResponse({"error": "Invalid API key"}, status_code=401)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _build_routes(state: HuduState) -> list[Route]:
    async def api_info(request: Request) -> Response:
        return JSONResponse({"version": API_VERSION, "date": API_DATE})

    async def list_articles(request: Request) -> Response:
        company_id = _int_param(request, "company_id")
        name = _param(request, "name")
        slug = _param(request, "slug")
        search = _param(request, "search")
        draft = _bool_param(request, "draft")
        sharing = _bool_param(request, "enable_sharing")
        updated = _param(request, "updated_at")
        start, end = _updated_at_range(updated) if updated else (None, None)
        needle = search.lower() if search else None
        found = [
            a
            for a in state.articles.values()
            if (company_id is None or a.company_id == company_id)
            and (name is None or a.name == name)
            and (slug is None or a.slug == slug)
            and (needle is None or needle in a.name.lower() or needle in a.content.lower())
            # SQL semantics: a null draft/enable_sharing matches neither true nor false.
            and (draft is None or a.draft is draft)
            and (sharing is None or a.enable_sharing is sharing)
            and (start is None or a.updated_at >= start)
            and (end is None or a.updated_at <= end)
        ]
        return _listing(request, found, "articles", state.article_json)

    async def get_article(request: Request) -> Response:
        return _one(request, state.articles, "article", state.article_json)

    async def list_companies(request: Request) -> Response:
        name = _param(request, "name")
        updated = _param(request, "updated_at")
        start, end = _updated_at_range(updated) if updated else (None, None)
        found = [
            c
            for c in state.companies.values()
            if (name is None or c.name == name)
            and (start is None or c.updated_at >= start)
            and (end is None or c.updated_at <= end)
        ]
        return _listing(request, found, "companies", state.company_json)

    async def get_company(request: Request) -> Response:
        return _one(request, state.companies, "company", state.company_json)

    async def list_folders(request: Request) -> Response:
        company_id = _int_param(request, "company_id")
        name = _param(request, "name")
        in_company = _bool_param(request, "in_company")
        folder_type = _param(request, "folder_type")
        if folder_type not in (None, "article", "photo"):
            raise ApiFailure(400, "folder_type must be article or photo")
        found = [
            f
            for f in state.folders.values()
            if (company_id is None or f.company_id == company_id)
            and (name is None or f.name == name)
            and (not in_company or f.company_id is not None)
            and folder_type != "photo"
        ]
        return _listing(request, found, "folders", state.folder_json)

    async def get_folder(request: Request) -> Response:
        return _one(request, state.folders, "folder", state.folder_json)

    async def list_uploads(request: Request) -> Response:
        page = _paginate(request, sorted(state.uploads.values(), key=lambda u: u.id))
        return JSONResponse([state.upload_json(u) for u in page])

    async def get_upload(request: Request) -> Response:
        upload = state.uploads.get(_path_id(request))
        if upload is None:
            return _not_found()
        if not _bool_param(request, "download"):
            return JSONResponse(state.upload_json(upload))
        if state.redirect_downloads:
            root = request.scope.get("root_path", "")
            origin = f"{request.url.scheme}://{request.url.netloc}{root}"
            location = (
                f"{origin}/storage/uploads/{upload.id}/{quote(upload.name)}"
                f"?X-Amz-Expires=300&X-Amz-Signature={state.storage_signature(upload.id)}"
            )
            return Response(status_code=302, headers={"location": location})
        return _file_response(state, upload)

    async def storage(request: Request) -> Response:
        upload = state.uploads.get(_path_id(request))
        signature = request.query_params.get("X-Amz-Signature", "")
        if upload is None or not hmac.compare_digest(signature, state.storage_signature(upload.id)):
            body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            return Response(body, 403, media_type="application/xml")
        return _file_response(state, upload)

    async def list_public_photos(request: Request) -> Response:
        page = _paginate(request, sorted(state.public_photos.values(), key=lambda p: p.numeric_id))
        return JSONResponse({"public_photos": [state.photo_json(p) for p in page]})

    async def get_public_photo(request: Request) -> Response:
        photo = state.public_photos.get(_path_id(request))
        if photo is None:
            return _not_found()
        if _bool_param(request, "download"):
            return _photo_response(photo)
        return JSONResponse(state.photo_json(photo))

    async def public_photo_file(request: Request) -> Response:
        photo = state.photo_by_slug(request.path_params["slug"])
        if photo is None:
            return PlainTextResponse("Not Found", 404)
        return _photo_response(photo)

    async def api_not_found(request: Request) -> Response:
        return _not_found()

    api = API_PREFIX
    return [
        Route(f"{api}/api_info", api_info),
        Route(f"{api}/articles", list_articles),
        Route(f"{api}/articles/{{id}}", get_article),
        Route(f"{api}/companies", list_companies),
        Route(f"{api}/companies/{{id}}", get_company),
        Route(f"{api}/folders", list_folders),
        Route(f"{api}/folders/{{id}}", get_folder),
        Route(f"{api}/uploads", list_uploads),
        Route(f"{api}/uploads/{{id}}", get_upload),
        Route(f"{api}/public_photos", list_public_photos),
        Route(f"{api}/public_photos/{{id}}", get_public_photo),
        Route(f"{api}/{{rest:path}}", api_not_found),
        Route("/public_photo/{slug}", public_photo_file),
        Route("/storage/uploads/{id}/{name}", storage),
    ]


def _file_response(state: HuduState, upload: _Upload) -> Response:
    plain = upload.name.encode("ascii", "replace").decode().replace('"', "%22")
    headers = {
        "content-disposition": (
            f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(upload.name)}"
        ),
        "content-length": str(upload.size),
    }
    if upload.data is not None:
        return Response(upload.data, media_type=upload.mime, headers=headers)
    return StreamingResponse(
        state.iter_upload_bytes(upload.id), media_type=upload.mime, headers=headers
    )


def _photo_response(photo: _Photo) -> Response:
    mime = mimetypes.guess_type(photo.file_name)[0] or "image/png"
    return Response(photo.data, media_type=mime)


async def _api_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiFailure)
    if exc.status == 404:
        return _not_found()
    return JSONResponse({"error": exc.message}, status_code=exc.status)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.removeprefix(request.scope.get("root_path", "")).startswith(API_PREFIX):
        body, _ = _rails_error(exc.status_code)
        return Response(body, exc.status_code, media_type="application/json")
    return PlainTextResponse(exc.detail, exc.status_code)


def create_hudu_app(state: HuduState) -> ASGIApp:
    """The emulated Hudu as an ASGI app: fault switches outside, the API gate, then the routes."""
    app = Starlette(
        routes=_build_routes(state),
        exception_handlers={ApiFailure: _api_failure, HTTPException: _http_exception},
    )
    return FaultMiddleware(
        _ApiGate(app, state),
        state.log,
        state.switches,
        prefix=API_PREFIX,
        error_body=_rails_error,
        clock=lambda: state.clock().timestamp(),
    )
