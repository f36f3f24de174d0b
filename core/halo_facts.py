"""What hhsync relies on about Halo's API, each written once: URL shapes, scopes, the rate
limit and its retry schedule, the page size.

Which of these are confirmed, observed or only inferred is in docs/hudu-and-halo.md (section
"Halo"). This module imports nothing of hhsync, so the client, the settings, the doctor and the
hints can all use it.
"""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

API_PATH = "/api"
AUTH_PATH = "/auth"  # the authorisation server, usually on the instance itself
TOKEN_PATH = "/token"  # under the authorisation server
TOKEN_LIFETIME = 3600.0  # seconds, when the token answer has no expires_in (inferred)

KB_SCOPES = ("read:kb", "edit:kb")
DEFAULT_SCOPE = " ".join(KB_SCOPES)  # what hhsync asks for unless HALO_SCOPE says otherwise
ALL_SCOPE = "all"  # a token with this scope has every other one (observed)
CUSTOMER_SCOPE = (
    "read:customers"  # reading /api/Client (inferred: docs/hudu-and-halo.md#halo-customers)
)

RATE_LIMIT = 300  # requests per rolling window, as Halo-hosted tenants enforce it
WINDOW_SECONDS = 300.0
MAX_REQUESTS = RATE_LIMIT - 10  # the client-side sliding window keeps a small margin

PAGE_SIZE = 100  # articles per page of a KBArticle search, clients per page of /Client

MAX_ATTACHMENT_MB = 25  # per file (Hudu's help article for its own Halo sync)
MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MB * 1024 * 1024


def api_root(base_url: str) -> str:
    """`https://acme.halopsa.com[/api]` → `https://acme.halopsa.com/api`."""
    base = base_url.strip().rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


def instance_root(url: str) -> str:
    """`https://acme.halopsa.com/API` → `https://acme.halopsa.com` (the suffix in any case)."""
    return url[: -len(API_PATH)] if url.lower().endswith(API_PATH) else url


def default_auth_url(instance_url: str) -> str:
    """The authorisation server when HALO_AUTH_URL is not set."""
    return instance_url + AUTH_PATH


def agent_article_url(instance_url: str, article_id: int, template: str = "") -> str:
    """Where an agent opens an article: the probe's `template` (from the article's `link`,
    `{id}` for the id) when it saw one, else the inferred `/kb?id=` (docs/hudu-and-halo.md,
    article URL)."""
    if template:
        return template.replace("{id}", str(int(article_id)))
    return f"{instance_url}/kb?id={int(article_id)}"


def url_template_from_link(link: str, article_id: int, instance_url: str) -> str:
    """The article URL shape a `link` shows (`{id}` for the id), or "" when `link` is not a
    URL naming the article; a link relative to the instance is made absolute."""
    link = link.strip()
    if link.startswith("/"):
        link = instance_url + link
    if not link.lower().startswith(("https://", "http://")):
        return ""
    found = list(re.finditer(rf"(?<!\d){int(article_id)}(?!\d)", link))
    if not found:
        return ""
    last = found[-1]
    return link[: last.start()] + "{id}" + link[last.end() :]


def missing_scopes(granted: set[str] | frozenset[str]) -> set[str]:
    """The scopes hhsync needs that `granted` lacks."""
    return set() if ALL_SCOPE in granted else set(KB_SCOPES) - granted


def has_scope(granted: set[str] | frozenset[str], scope: str) -> bool:
    return ALL_SCOPE in granted or scope in granted


def exponential_to_sixty(attempt: int, now: float, rng: random.Random) -> float:
    """The wait after a 429 without `Retry-After`: 5, 10, 20, 40, 60, 60, … seconds (a little
    jitter below 60), so a few attempts outlast the rolling window."""
    return min(60.0, 5.0 * 2.0 ** (attempt - 1) + rng.uniform(0.0, 1.0))


def on_instance(link: str, instance_url: str) -> str:
    """`link` as an absolute URL when it is a path or an http(s) URL on this Halo, else "".
    Halo answers image links as paths (`/api/attachment/image?token=…`: observed, IMG)."""
    link = link.strip()
    if link.startswith("/") and not link.startswith("//"):
        return instance_url.rstrip("/") + link
    parts, home = urlsplit(link), urlsplit(instance_url)
    if parts.scheme in ("http", "https") and parts.netloc.lower() == home.netloc.lower():
        return link
    return ""
