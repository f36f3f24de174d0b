"""Untrusted Hudu HTML made safe to send and cheap to parse: the sanitiser's rules and the
nesting budget `core.render` checks before handing a body to a parser.

The sanitiser is nh3 (Ammonia, an html5ever parser): no script/style, no ``on*`` handlers, no
``javascript:`` (or any scheme but http, https, mailto, tel), ``data:`` only for small raster
images in ``<img src>``, inline styles reduced to harmless layout and colour properties.
Within `urls_rewritten`, each URL it keeps passes through the caller's rewrite during that
same parse (`core.render` makes links absolute there, without parsing the body again).
HTML parsers spend time proportional to the nesting depth for each tag, so `nesting_work`
measures that (linearly) before any parser runs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import nh3

MAX_DATA_IMAGE_CHARS = 256 * 1024
#: Budget of "sum of open-element depth over all start tags" (what parsers pay for nesting).
#: A 2,000-deep body costs 2 M; typical articles cost thousands.
MAX_NESTING_WORK = 30_000_000

_DATA_IMAGE = re.compile(r"data:image/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.I)
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "text-align",
    "vertical-align",
    "font-weight",
    "font-style",
    "text-decoration",
    "white-space",
    "width",
    "height",
    "max-width",
    "border",
    "border-collapse",
    "padding",
    "margin",
    "list-style-type",
}


URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_ABSOLUTE_HTTP = re.compile(r"https?://", re.I)

UrlRewrite = Callable[[str, str, str], str]
"""(tag, attribute, URL) -> the URL to keep instead."""
_rewrite: ContextVar[UrlRewrite | None] = ContextVar("url_rewrite", default=None)


@contextmanager
def urls_rewritten(rewrite: UrlRewrite) -> Iterator[None]:
    """While active, `CLEANER` hands each ``href``, ``src`` and ``cite`` it keeps to `rewrite`.

    Ammonia checks a URL's scheme before this callback and not after, so a rewritten URL is
    kept only when it is absolute http(s); any other change keeps the URL as Ammonia passed it.
    """
    token = _rewrite.set(rewrite)
    try:
        yield
    finally:
        _rewrite.reset(token)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 callback: ``data:`` URLs survive only as small raster images in ``<img src>``;
    kept URLs go through the active rewrite (`urls_rewritten`)."""
    if value[:5].lower() == "data:":
        if tag != "img" or attribute != "src" or len(value) > MAX_DATA_IMAGE_CHARS:
            return None
        if not _DATA_IMAGE.match(value):
            return None
    rewrite = _rewrite.get() if attribute in URL_ATTRIBUTES else None
    if rewrite is None:
        return value
    new = rewrite(tag, attribute, value)
    return new if new == value or _ABSOLUTE_HTTP.match(new) else value


def _cleaner() -> nh3.Cleaner:
    attributes = copy.deepcopy(nh3.ALLOWED_ATTRIBUTES)
    for tag, extra in {
        "*": {"title", "lang", "dir", "style"},
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "iframe": {"src"},
        "ol": {"start", "type"},
        "td": {"colspan", "rowspan"},
        "th": {"colspan", "rowspan"},
    }.items():
        attributes.setdefault(tag, set()).update(extra)
    return nh3.Cleaner(
        tags=set(nh3.ALLOWED_TAGS) | {"iframe"},
        clean_content_tags={"script", "style", "object", "embed", "noscript", "template"},
        attributes=attributes,
        attribute_filter=_keep_attribute,
        url_schemes={"http", "https", "mailto", "tel", "data"},
        filter_style_properties=_STYLE_PROPERTIES,
        strip_comments=True,
    )


CLEANER = _cleaner()

#: A tag-name scanner used only to *measure* nesting (never to edit HTML).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_SELF_CLOSING_SIBLINGS = frozenset(["p", "li", "dt", "dd", "tr", "td", "th", "option"])


def nesting_work(content: str) -> int:
    """An upper estimate of parser work due to nesting: the sum of depth over start tags.

    Linear in the input. Bodies with few tags cannot be expensive and are not scanned.
    """
    tags = content.count("<")
    if tags * tags // 2 <= MAX_NESTING_WORK:
        return 0
    stack: list[str] = []
    open_count: dict[str, int] = {}
    work = 0
    for match in _TAG.finditer(content):
        name = match.group(2).lower()
        if name in _VOID:
            continue
        if match.group(1):
            if open_count.get(name):
                while stack:
                    top = stack.pop()
                    open_count[top] -= 1
                    if top == name:
                        break
            continue
        if name in _SELF_CLOSING_SIBLINGS and stack and stack[-1] == name:
            stack.pop()
            open_count[name] -= 1
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        work += len(stack)
        if work > MAX_NESTING_WORK:
            break
    return work


def scrub(text: str) -> str:
    """Drop NUL bytes and replace lone surrogates (which no UTF-8 encoder accepts)."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text
