"""Hudu article -> the Halo KBEntry payload hhsync sends (docs/hudu-and-halo.md: articles).

The body is built in three steps:

1. sanitise with nh3 (`core.html_safety`): no script/style, no ``on*`` handlers, no
   ``javascript:`` (or any scheme but http, https, mailto, tel), ``data:`` only for small raster
   images in ``<img src>``, inline styles reduced to harmless layout and colour properties;
2. rewrite URLs while sanitising (nh3's attribute callback, `urls_rewritten`): relative Hudu
   URLs become absolute on the Hudu host, ``/kba/<slug>`` links go to the Halo copy when the
   engine knows one. Only a body with an iframe or an image that lost its `src` is parsed again
   (selectolax, lexbor): iframes from known video hosts become plain links, all other iframes
   and those images go;
3. wrap: a banner first (the article comes from Hudu, edit it there) and, for files that are
   not uploaded, an "Attachments" list linking to the Hudu-hosted copy with the reason.

What the tenant keeps decides the rest (`RenderOptions`, from the probe: core.halo_profile):
the body field(s), the tag path, whether files travel inside the article POST. A company
article with a Halo customer is restricted to it (`kbentryclientaccess`, `showforall: false`);
the content hash covers the restriction, so changing it re-sends exactly the affected articles.

Hostile input: NUL bytes and lone surrogates are replaced before parsing. HTML parsers spend
time proportional to the nesting depth for each tag, so a body nested absurdly deep (tens of
thousands of levels) would take minutes; such a body, or one over `MAX_BODY_CHARS`, is replaced
by a short note with a link to the article in Hudu instead of being parsed.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from core.halo_facts import MAX_ATTACHMENT_BYTES
from core.halo_json import JsonFragment, attachments_json, compact_json
from core.html_safety import CLEANER, MAX_NESTING_WORK, nesting_work, scrub, urls_rewritten
from core.hudu_facts import instance_root
from core.image_refs import copyable
from core.models import HuduArticle, HuduUpload, SkippedFile, marker_for
from core.render_cache import LookedUp, RenderCache
from core.render_hash import content_hash as content_hash  # the hash, where it always was
from core.render_hash import hashed
from core.spool import BodySpool, Spooled
from core.text import without_controls

MAX_BODY_CHARS = 20 * 1024 * 1024
_CLEANER = CLEANER  # module-level, so a test can watch what reaches the sanitiser
VIDEO_HOSTS = frozenset(
    {
        "www.youtube.com",
        "youtube.com",
        "www.youtube-nocookie.com",
        "youtu.be",
        "player.vimeo.com",
        "vimeo.com",
        "www.loom.com",
        "loom.com",
    }
)
TAGS = ("hudu",)

BODY_FIELDS = ("description", "description_html")


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What the tenant keeps, as the probe found it; the defaults are what hhsync assumes
    before any probe (docs/hudu-and-halo.md#to-probe)."""

    body_fields: tuple[str, ...] = BODY_FIELDS
    """The fields the body goes in (docs/hudu-and-halo.md#halo-body)."""
    tag_path: str = "tag_string"
    """`tag_string`, or `tags` for `tags: [{"text": …}]` (docs/hudu-and-halo.md#halo-marker)."""
    attach_in_post: bool = True
    """Files go inside the article POST; else they are linked to Hudu with `files_note`
    (docs/hudu-and-halo.md#halo-attachments)."""
    files_note: str = ""
    images: str = "link"
    """HHSYNC_IMAGES and how copies are stored ("link", "copy", "copy:inline"); in the hash
    of articles with images, so a change re-sends exactly those (core.images)."""


@dataclass(frozen=True, slots=True)
class RenderedArticle:
    """What the engine sends for one article, and the hash that says whether Halo has it.

    `payload` has no ``id`` and no ``attachments``: `article_payload` adds them just before
    the article is sent, with `unhashed` (fields that must be sent but must not change the
    hash: clearing a customer restriction the article no longer has).
    """

    payload: dict[str, Any]
    files_to_attach: tuple[HuduUpload, ...]
    skipped_files: tuple[SkippedFile, ...]
    content_hash: str
    unhashed: Mapping[str, Any] = field(default_factory=dict)
    json_bytes: int = 0
    """The payload's size as compact UTF-8 JSON (as sent), measured while hashing it."""
    body_fields: tuple[str, ...] = ()
    """The payload's fields that hold the body."""
    body_json: str = ""
    """The body as a JSON string, encoded once while hashing and sent as it is ("" when
    spooled: the spool holds it)."""
    spooled_body: Spooled | None = None
    """The body's JSON, when it waits in a spool (`spooled`) and the body fields are empty."""
    images: tuple[str, ...] = ()
    """Hudu images in the body that `core.images` copies into Halo before sending."""

    def spooled(self, spool: BodySpool) -> RenderedArticle:
        """The same, its body kept in `spool` until `article_payload` reads it back."""
        if self.spooled_body is not None or not self.body_fields:
            return self
        text = self.body_json or compact_json(self.payload[self.body_fields[0]])
        payload = {**self.payload, **dict.fromkeys(self.body_fields, "")}
        return dataclasses.replace(
            self, payload=payload, body_json="", spooled_body=spool.put(text)
        )

    def unspooled(self) -> RenderedArticle:
        """The same, its body back in the payload."""
        if self.spooled_body is None:
            return self
        text = self.spooled_body.text()
        payload = {**self.payload, **dict.fromkeys(self.body_fields, json.loads(text))}
        return dataclasses.replace(self, payload=payload, body_json=text, spooled_body=None)


def article_payload(
    rendered: RenderedArticle, *, halo_id: int | None, files: Sequence[tuple[str, bytes]] = ()
) -> dict[str, Any]:
    """The KBArticle object sent for one article: an update when it has a Halo id, with the
    downloaded files (name, bytes) as base64 attachments. The body is the JSON encoded when
    it was hashed, the attachments JSON already too (`JsonFragment`)."""
    payload: dict[str, Any] = {**rendered.unhashed, **rendered.payload}
    spooled = rendered.spooled_body
    body_json = spooled.text() if spooled is not None else rendered.body_json
    if body_json and rendered.body_fields:
        payload.update(dict.fromkeys(rendered.body_fields, JsonFragment(body_json)))
    if halo_id is not None:
        payload["id"] = halo_id
    if rendered.files_to_attach:
        payload["attachments"] = JsonFragment(attachments_json(files))
    return payload


class LinkedRenderer:
    """Renders articles with their `/kba/` links pointing at the Halo copies that exist now.

    `slugs` maps Hudu slugs to Hudu ids; `halo_id_of` gives the live Halo copy of a Hudu id.
    A link to a Hudu article with no Halo copy yet is kept as a Hudu link and reported as
    waiting, so the article is sent again once its target exists.
    """

    def __init__(
        self,
        hudu_base_url: str,
        halo_url: Callable[[int], str],
        options: RenderOptions = RenderOptions(),
    ) -> None:
        self.hudu_base_url = hudu_base_url
        self.halo_url = halo_url
        self.options = options
        self.client_of: Callable[[int], int | None] = lambda hudu_id: None
        """The Halo customer an article is restricted to (the planner's choice, by Hudu id):
        an article rendered again later (its links filled in) keeps its restriction."""
        self.cache = RenderCache(self)
        """What each article last rendered to (the planner skips unchanged articles)."""

    def render(
        self,
        article: HuduArticle,
        faqlist_id: int,
        files: Sequence[HuduUpload],
        *,
        slugs: Mapping[str, int],
        halo_id_of: Callable[[int], int | None],
        client_id: int | EllipsisType | None = ...,
    ) -> tuple[RenderedArticle, tuple[str, ...]]:
        """The article as Halo gets it, and the slugs of its links still waiting for a
        target. `client_id` is its Halo customer (None: unrestricted); left out, the one
        `client_of` gives (a re-render keeps the planner's choice)."""
        waiting: list[str] = []
        looked_up = LookedUp(slugs)

        def link_for_slug(slug: str) -> str | None:
            if slug not in looked_up:
                return None
            halo_id = halo_id_of(slugs[slug])
            if halo_id is None:
                waiting.append(slug)
                return None
            return self.halo_url(halo_id)

        client = self.client_of(article.id) if client_id is ... else client_id
        rendered = render_article(
            article,
            hudu_base_url=self.hudu_base_url,
            faqlist_id=faqlist_id,
            files=files,
            link_for_slug=link_for_slug,
            client_id=client,
            options=self.options,
        )
        self.cache.remember(article, faqlist_id, files, client, looked_up, halo_id_of, rendered)
        return rendered, tuple(waiting)


def render_article(
    article: HuduArticle,
    *,
    hudu_base_url: str,
    faqlist_id: int,
    files: Sequence[HuduUpload] = (),
    link_for_slug: Callable[[str], str | None] = lambda slug: None,
    max_file_bytes: int = MAX_ATTACHMENT_BYTES,
    client_id: int | None = None,
    options: RenderOptions = RenderOptions(),
) -> RenderedArticle:
    """Render one Hudu article as Halo KBEntry fields. Pure: the same input gives the same output.

    Archived uploads in `files` are ignored. Where the article has a public link
    (``enable_sharing`` and a ``share_url``), files are linked, never uploaded. `client_id`
    restricts a company article to that Halo customer; a company article without one clears
    any restriction it had (outside the hash). The Central KB is never restricted.
    """
    base = _hudu_root(hudu_base_url)
    article_url = _absolute(article.url, base) or f"{base}/kba/{article.slug or article.id}"
    rewriter = _UrlRewriter(base, article_url, link_for_slug)

    current = sorted((u for u in files if not u.archived), key=lambda u: u.id)
    public = bool(article.enable_sharing and (article.share_url or "").strip())
    attach: list[HuduUpload] = []
    skipped: list[SkippedFile] = []
    linked: list[tuple[HuduUpload, str, str]] = []  # upload, why, where to open it
    limit = f"{max_file_bytes / 1024 / 1024:g} MB"
    for upload in current:
        if public:
            share = _absolute(article.share_url, base)
            linked.append(
                (upload, "on the article's public Hudu page (no Hudu login needed)", share)
            )
        elif upload.size > max_file_bytes:
            reason = f"larger than Halo's {limit} attachment limit ({_mb(upload.size)})"
            skipped.append(SkippedFile(upload.id, upload.name, upload.size, reason))
            why = f"not attached: larger than Halo's {limit} attachment limit"
            linked.append((upload, why, ""))
        elif not options.attach_in_post:
            reason = options.files_note or "Halo drops files sent with an article"
            skipped.append(SkippedFile(upload.id, upload.name, upload.size, reason))
            linked.append((upload, f"not attached: {reason}", ""))
        else:
            attach.append(upload)

    found: list[str] = []
    body = (
        _banner(article_url)
        + _body(article.content or "", article_url, rewriter, found)
        + _attachments_section(linked, base)
    )
    images = tuple(dict.fromkeys(src for src in found if copyable(src, base)))
    payload: dict[str, Any] = {"name": _title(article)}
    for body_field in options.body_fields:
        payload[body_field] = body
    payload["faqlists"] = [{"id": faqlist_id}]
    tags = (*TAGS, marker_for(article.id))
    if options.tag_path == "tags":
        payload["tags"] = [{"text": tag} for tag in tags]
    else:
        payload["tag_string"] = ",".join(tags)
    payload["inactive"] = False
    unhashed: dict[str, Any] = {}
    if article.company_id is not None and client_id is not None:
        payload["kbentryclientaccess"] = [{"client_id": int(client_id)}]
        payload["showforall"] = False
    elif article.company_id is not None:
        unhashed["kbentryclientaccess"] = []
    body_json = compact_json(body)
    digest, size = hashed(
        payload,
        attach,
        images=options.images if images and options.images != "link" else "",
        encoded=dict.fromkeys(options.body_fields, body_json),
    )
    return RenderedArticle(
        payload=payload,
        files_to_attach=tuple(attach),
        skipped_files=tuple(skipped),
        content_hash=digest,
        unhashed=unhashed,
        json_bytes=size,
        body_fields=tuple(options.body_fields),
        body_json=body_json if options.body_fields else "",
        images=images if options.images != "link" else (),
    )


# ---------------------------------------------------------------- pieces of the body
def _banner(article_url: str) -> str:
    href = html.escape(article_url, quote=True)
    return (
        "<div>"
        f'<p><strong>Article from Hudu</strong> · <a href="{href}">open it in Hudu</a></p>'
        "<p><em>Edit in Hudu: changes made here are overwritten on the next sync.</em></p>"
        "</div><hr>"
    )


def _attachments_section(linked: Sequence[tuple[HuduUpload, str, str]], base: str) -> str:
    if not linked:
        return ""
    items = []
    for upload, reason, where in linked:
        url = where or _absolute(upload.url, base) or f"{base}/file/{upload.id}"
        href = html.escape(url, quote=True)
        name = html.escape(without_controls(upload.name) or f"file {upload.id}")
        size = f" ({_mb(upload.size)})" if upload.size > 0 else ""
        items.append(f'<li><a href="{href}">{name}</a>{size}: {html.escape(reason)}</li>')
    return f"<hr><h3>Attachments</h3><ul>{''.join(items)}</ul>"


def _body(content: str, article_url: str, rewriter: _UrlRewriter, images: list[str]) -> str:
    content = scrub(content)
    if len(content) > MAX_BODY_CHARS or nesting_work(content) > MAX_NESTING_WORK:
        href = html.escape(article_url, quote=True)
        return (
            "<p><strong>This article is too large or too deeply nested to copy.</strong> "
            f'<a href="{href}">Read it in Hudu.</a></p>'
        )

    sources: list[str] = []

    def rewrite(tag: str, attribute: str, value: str) -> str:
        new = rewriter(value)
        if tag == "img" and attribute == "src":
            sources.append(new)
        return new

    with urls_rewritten(rewrite):
        cleaned = _CLEANER.clean(content)
    if not cleaned.strip():
        return ""
    images.extend(sources)
    if "<iframe" in cleaned or cleaned.count("<img") != len(sources):
        return _without_frames(cleaned)
    return cleaned


def _without_frames(cleaned: str) -> str:
    """The sanitised body with iframes from known video hosts as plain links, other iframes
    gone, and images whose `src` the sanitiser dropped gone (a rare second parse: in the
    sanitiser's output, every ``<img`` is a tag and each kept `src` was seen rewritten)."""
    tree = LexborHTMLParser(cleaned, is_fragment=True)
    for node in tree.css("iframe"):
        src = node.attrs.get("src") or ""
        host = (urlsplit(src).hostname or "").lower() if src else ""
        if host in VIDEO_HOSTS:
            link = tree.create_node("a")
            link.attrs["href"] = src
            link.insert_child("Video: " + src)
            node.replace_with(link)
        else:
            node.decompose()
    for node in tree.css("img:not([src])"):
        node.decompose()
    return tree.html or ""


class _UrlRewriter:
    """Relative URLs -> absolute on the Hudu host; Hudu ``/kba/<slug>`` -> the Halo copy."""

    def __init__(self, base: str, article_url: str, link_for_slug: Callable[[str], str | None]):
        self.base = base
        self.article_url = article_url
        parts = urlsplit(base)
        self.scheme = parts.scheme or "https"
        self.host = (parts.hostname or "").lower()
        self.link_for_slug = link_for_slug
        self._halo_links: dict[str, str | None] = {}

    def __call__(self, value: str) -> str:
        url = value.strip()
        if not url or url.startswith("#") or url.startswith(("data:", "mailto:", "tel:")):
            return value
        if url.startswith("//"):
            url = f"{self.scheme}:{url}"
        elif url.startswith("/"):
            url = self.base + url
        elif "://" not in url[:12]:
            url = urljoin(self.article_url, url)
        if "/kba/" not in url:
            return url
        parts = urlsplit(url)
        if (parts.hostname or "").lower() == self.host and parts.path.startswith("/kba/"):
            slug = unquote(parts.path[len("/kba/") :].split("/", 1)[0])
            if slug:
                halo = self._halo_link(slug)
                if halo:
                    return halo
        return url

    def _halo_link(self, slug: str) -> str | None:
        if slug not in self._halo_links:
            self._halo_links[slug] = self.link_for_slug(slug)
        return self._halo_links[slug]


# ---------------------------------------------------------------- small helpers
def _title(article: HuduArticle) -> str:
    return halo_title(article.id, article.name)


def halo_title(hudu_id: int, name: str) -> str:
    """The name a Hudu article has in Halo (crash recovery's fallback looks it up by it)."""
    return without_controls(name) or f"Hudu article {hudu_id}"


def _hudu_root(url: str) -> str:
    return instance_root(url.strip().rstrip("/")).rstrip("/")


def _absolute(url: str, base: str) -> str:
    """An absolute http(s) URL for a Hudu-supplied URL, or "" (relative is taken on `base`)."""
    url = scrub(url or "").strip()
    if not url:
        return ""
    if url.startswith("//"):
        url = f"{urlsplit(base).scheme or 'https'}:{url}"
    elif url.startswith("/"):
        url = base + url
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
