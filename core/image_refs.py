"""Which images of a rendered body hhsync may copy into Halo, what their bytes are, and the body
with their `src` pointing at the copies. Pure: `core.images` does the requests.

Only Hudu's own images are ever fetched: `/public_photo/<slug>` and `/file/<upload id>` on
the Hudu host (docs/hudu-and-halo.md#hudu-html), and `data:` images already in the body (the
sanitiser kept only small raster ones). Anything else (another host, another path, a scheme
the sanitiser would have dropped anyway) is left exactly as it is.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
_UPLOAD_PATH = re.compile(r"/file/(\d{1,12})/?\Z")
_DATA_IMAGE = re.compile(r"data:image/[a-z+.-]+;base64,", re.IGNORECASE)


def image_type(data: bytes) -> str:
    """The media type the bytes are by their signature, among the raster formats a browser
    shows safely (no SVG: it can carry script); "" for anything else."""
    for signature, media in _SIGNATURES:
        if data.startswith(signature):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return ""


def file_name(digest: str, media: str) -> str:
    """The name an image gets in Halo: from its content, never from Hudu's text."""
    return f"hudu-image-{digest[:16]}.{_EXTENSIONS.get(media, 'img')}"


def copyable(src: str, hudu_root: str) -> bool:
    """Whether `src` (as the renderer left it: absolute) is an image hhsync may copy."""
    return bool(_DATA_IMAGE.match(src)) or _hudu_path(src, hudu_root) is not None


def upload_id(src: str, hudu_root: str) -> int | None:
    """The Hudu upload a `/file/<id>` image is (None for a public photo or a data image)."""
    match = _UPLOAD_PATH.match(_hudu_path(src, hudu_root) or "")
    return int(match.group(1)) if match else None


def _hudu_path(src: str, hudu_root: str) -> str | None:
    """The image's path below Hudu's root when it is one of Hudu's own images, else None."""
    parts, home = urlsplit(src), urlsplit(hudu_root)
    if parts.scheme not in ("http", "https") or parts.scheme != home.scheme:
        return None
    if parts.netloc.lower() != home.netloc.lower() or parts.query or parts.fragment:
        return None
    prefix = home.path.rstrip("/")
    if not parts.path.startswith(prefix + "/"):
        return None
    path = parts.path[len(prefix) :]
    if path.startswith("/public_photo/") or _UPLOAD_PATH.match(path):
        return path
    return None


def data_image_bytes(src: str) -> bytes | None:
    """The bytes of a `data:image/…;base64,` src (None when it is not one or is not base64)."""
    match = _DATA_IMAGE.match(src)
    if match is None:
        return None
    try:
        return base64.b64decode(re.sub(r"\s+", "", src[match.end() :]), validate=True)
    except (binascii.Error, ValueError):
        return None


def data_uri(data: bytes, media: str) -> str:
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


def _attribute(value: str) -> str:
    """An attribute value as nh3 and lexbor serialise it (`&`, `"`, `<`, `>`, no-break space)."""
    return (
        value.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("\u00a0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def with_images(body: str, copies: Mapping[str, str], kept: Sequence[tuple[str, str]]) -> str:
    """The body with each copied image's `src` (and a link to the same image) pointing at its
    copy, and a note listing the images that stay in Hudu, with why."""
    for src, copy in copies.items():
        new = _attribute(copy)
        for attr in ("src", "href"):
            body = body.replace(f' {attr}="{_attribute(src)}"', f' {attr}="{new}"')
    if not kept:
        return body
    items = "".join(
        f'<li><a href="{html.escape(src, quote=True)}">{html.escape(_short(src))}</a>: '
        f"{html.escape(why)}</li>"
        for src, why in kept
    )
    return (
        f"{body}<hr><h3>Images kept in Hudu</h3><p>These images are not copied into Halo; "
        f"they open from Hudu.</p><ul>{items}</ul>"
    )


def _short(src: str) -> str:
    if src.startswith("data:"):
        return "an image pasted into the article"
    return urlsplit(src).path.rsplit("/", 1)[-1] or src
