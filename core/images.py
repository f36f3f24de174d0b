"""`HHSYNC_IMAGES=copy`: each Hudu image of an article stored in Halo once, the article's body
pointing at the copy, so it reads correctly where Hudu cannot be reached.

An image is downloaded from Hudu (a public photo without the API key, an upload through the
API), checked (real PNG, JPEG, GIF or WebP bytes within Halo's limit) and stored with Halo's
editor image endpoint (`POST /Attachment/image`: halo-api.md). Copies are content-addressed:
the mapping file keeps Hudu URL → sha256 and sha256 → Halo link (meta `image_source:<url>`,
`image_stored:<sha256>`), so an image already copied is neither downloaded nor sent again,
whichever article shows it.

Whether the endpoint takes an image without a ticket is unverified (fidelity §3): the probe
checks it (`HaloProfile.image_upload`). Where it is refused, small images go inline as
`data:` URIs (at most `MAX_INLINE_BYTES`) and larger ones stay linked; a tenant never probed
tries the endpoint and, refused, says so and inlines for the rest of the run. An image that
cannot be copied for good (too large, not an image, gone from Hudu) stays linked and the
article lists it under "Images kept in Hudu"; a passing failure (Hudu or Halo unreachable,
5xx) fails the article, which is retried like any other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from core.config import ImageMode
from core.errors import AuthError, HaloError, HuduError, TooLargeError
from core.events import Announcer
from core.halo import HaloClient
from core.halo_facts import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_MB
from core.html_safety import MAX_DATA_IMAGE_CHARS
from core.hudu import HuduClient
from core.image_refs import (
    data_image_bytes,
    data_uri,
    file_name,
    image_type,
    upload_id,
    with_images,
)
from core.models import SkippedFile
from core.records import RecordBook
from core.render import BODY_FIELDS, RenderedArticle
from core.text import without_controls

SOURCE_KEY = "image_source:"
"""Meta `image_source:<Hudu URL>`: the sha256 of the image there."""
STORED_KEY = "image_stored:"
"""Meta `image_stored:<sha256>`: its Halo link. One key per entry, so a store write carries
only the copies it adds (a whole table would be written again each time)."""
COUNT_KEY = "images_stored"
MODE_KEY = "images_mode"
MAX_INLINE_BYTES = MAX_DATA_IMAGE_CHARS * 3 // 4 - 64
"""An inlined image stays within what the sanitiser lets through as a `data:` image."""
REFUSED_STATUSES = frozenset({400, 404, 405, 415, 501})
"""How a tenant without the endpoint (or needing a ticket) may answer (inferred)."""
GONE_STATUSES = frozenset({401, 403, 404, 410})
"""Hudu answers that will not change by trying again (a public photo needs no login)."""


class _Kept(Exception):
    """The image stays linked to Hudu, for the reason given."""

    def __init__(self, reason: str, size: int = 0) -> None:
        super().__init__(reason)
        self.size = size


class ImageCopier:
    """Copies an article's images into Halo just before it is sent (`localize`)."""

    def __init__(
        self,
        mode: ImageMode,
        *,
        hudu: HuduClient,
        halo: HaloClient,
        book: RecordBook,
        announcer: Announcer,
    ) -> None:
        self.mode = mode
        self.hudu = hudu
        self.halo = halo
        self.book = book
        self.announcer = announcer
        self.upload_works: bool | None = None
        """The probe's verdict on Halo's image endpoint (None: not checked, so tried)."""
        self._in_flight: dict[str, asyncio.Future[str]] = {}
        self.tally = {"stored": 0, "inlined": 0, "kept": 0}
        """What this run of writes did with images (said once the writes end)."""
        book.settled_meta[MODE_KEY] = mode.value

    @property
    def label(self) -> str:
        """How images are kept, for the content hash (`RenderOptions.images`)."""
        if self.mode is ImageMode.LINK:
            return "link"
        return "copy:inline" if self.upload_works is False else "copy"

    async def localize(
        self, rendered: RenderedArticle, names: Mapping[str, str] | None = None
    ) -> RenderedArticle:
        """The article with its images copied into Halo and its body pointing at them. Raises
        the ApiError of a passing failure (the article then fails and is retried). `names`:
        Hudu's file name of a public photo, by slug (for the row of an image kept in Hudu)."""
        if self.mode is ImageMode.LINK or not rendered.images:
            return rendered
        rendered = rendered.unspooled()  # the body is rewritten here
        copies: dict[str, str] = {}
        kept: list[tuple[str, str]] = []
        unsent: list[SkippedFile] = []
        for src in rendered.images:
            try:
                copies[src] = await self._copy_once(src)
            except _Kept as why:
                if not src.startswith("data:"):  # a pasted image stays inline as it was
                    kept.append((src, str(why)))
                    self.tally["kept"] += 1
                    slug = src.rsplit("/", 1)[-1]
                    name = without_controls((names or {}).get(slug, "")) or slug
                    unsent.append(SkippedFile(0, f"image {name}", why.size, f"kept in Hudu: {why}"))
        payload: dict[str, Any] = dict(rendered.payload)
        for body_field in BODY_FIELDS:
            if isinstance(payload.get(body_field), str):
                payload[body_field] = with_images(payload[body_field], copies, kept)
        skipped = (*rendered.skipped_files, *unsent)
        return dataclasses.replace(
            rendered, payload=payload, body_json="", images=(), skipped_files=skipped
        )

    def say_what_was_done(self) -> None:
        """One log line for the writes just ended, when they copied or kept any image."""
        stored, inlined, kept = self.tally["stored"], self.tally["inlined"], self.tally["kept"]
        self.tally = dict.fromkeys(self.tally, 0)
        if stored or inlined or kept:
            self.announcer.say(
                logging.INFO,
                f"images: {stored} stored in Halo, {inlined} inlined, {kept} kept in Hudu "
                "(listed in their articles)",
            )

    # ------------------------------------------------------------ one image
    async def _copy_once(self, src: str) -> str:
        """`_copy`, shared by the batches in flight that show the same image at once."""
        task = self._in_flight.get(src)
        if task is None:
            task = asyncio.ensure_future(self._copy(src))
            self._in_flight[src] = task
            task.add_done_callback(lambda done: self._landed(src, done))
        return await asyncio.shield(task)

    def _landed(self, src: str, done: asyncio.Future[str]) -> None:
        """A copy ended: forgotten as in flight, its error read (its callers may be gone)."""
        self._in_flight.pop(src, None)
        if not done.cancelled():
            done.exception()

    async def _copy(self, src: str) -> str:
        digest = self._known(SOURCE_KEY + src)
        link = self._known(STORED_KEY + digest) if digest else ""
        if link and self.upload_works is not False:
            return link
        data = await self._download(src)
        media = image_type(data)
        if not media:
            raise _Kept("not an image Halo can show (PNG, JPEG, GIF or WebP)", len(data))
        if len(data) > MAX_ATTACHMENT_BYTES:
            limit = f"Halo's {MAX_ATTACHMENT_MB} MB limit"
            raise _Kept(f"larger than {limit} ({_size(len(data))})", len(data))
        digest = hashlib.sha256(data).hexdigest()
        if not src.startswith("data:"):
            self.book.remember(**{SOURCE_KEY + src: digest})
        if self.upload_works is not False:
            link = self._known(STORED_KEY + digest)
            if link:
                return link
            link = await self._upload(data, media, digest)
            if link:
                return link
        if len(data) > MAX_INLINE_BYTES:
            raise _Kept(
                f"Halo refuses image uploads and the image is over the "
                f"{_size(MAX_INLINE_BYTES)} hhsync inlines ({_size(len(data))})",
                len(data),
            )
        self.tally["inlined"] += 1
        return data_uri(data, media)

    async def _download(self, src: str) -> bytes:
        if src.startswith("data:"):
            data = data_image_bytes(src)
            if data is None:
                raise _Kept("not a readable data image")
            return data
        upload = upload_id(src, self.hudu.instance_url)
        try:
            if upload is not None:
                return await self.hudu.download_upload(upload, max_bytes=MAX_ATTACHMENT_BYTES)
            return await self.hudu.download_public_photo(src, max_bytes=MAX_ATTACHMENT_BYTES)
        except ValueError:  # not on Hudu's host after all: never fetched
            raise _Kept("not on Hudu's host") from None
        except TooLargeError as exc:
            limit = f"Halo's {MAX_ATTACHMENT_MB} MB limit"
            raise _Kept(f"larger than {limit} (over {_size(exc.limit)})", exc.size) from None
        except AuthError as exc:
            if upload is None:  # a public photo asks for no login: Hudu refused this one
                raise _Kept(f"Hudu refused it ({exc.status})") from None
            raise
        except HuduError as exc:
            if exc.status in GONE_STATUSES:
                raise _Kept(f"Hudu answered {exc.status}") from None
            raise

    async def _upload(self, data: bytes, media: str, digest: str) -> str:
        """The Halo link of the stored image; "" when the tenant refuses the endpoint."""
        try:
            link = await self.halo.upload_image(file_name(digest, media), data, media)
        except HaloError as exc:
            if exc.status not in REFUSED_STATUSES:
                raise
            if self.upload_works is True:  # the endpoint works: Halo refused this image
                raise _Kept(f"Halo refused it ({exc.status}: {exc.message})") from None
            self.upload_works = False
            self.announcer.say(
                logging.WARNING,
                f"Halo refused an image upload ({exc.status}: {exc.message}): images up to "
                f"{_size(MAX_INLINE_BYTES)} go inline in the article, larger ones stay in Hudu "
                "(run `hhsync doctor --probe` to check the image endpoint)",
            )
            return ""
        self.tally["stored"] += 1
        count = int(self.book.meta(COUNT_KEY, 0) or 0) + 1
        self.book.remember(**{STORED_KEY + digest: link, COUNT_KEY: count})
        return link

    # ------------------------------------------------------------ the mapping file
    def _known(self, key: str) -> str:
        """A copy the mapping file knows (kept with the next store write when just made)."""
        value = self.book.meta(key)
        return value if isinstance(value, str) else ""


def mode_switched(book: RecordBook, mode: ImageMode) -> bool:
    """HHSYNC_IMAGES changed since the last complete pass: every article is read again, so
    those with images are sent again the new way."""
    return str(book.meta(MODE_KEY) or ImageMode.LINK.value) != mode.value


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
