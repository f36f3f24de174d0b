"""What each article rendered to, keyed by everything the rendering read, so a pass over
articles that did not change renders none of them (sanitising is most of a pass's CPU).

The key covers the whole Hudu article, its files, FAQ list, customer, the renderer's options
and base URLs, `RENDER_VERSION`, and how each `/kba/` link the rendering looked up resolves
now (no article, no Halo copy yet, or which copy): a link whose target gains a Halo copy
changes the key. Kept in memory: after a restart the first pass renders everything once.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, cast

from core.models import HuduArticle, HuduUpload

if TYPE_CHECKING:
    from core.render import LinkedRenderer, RenderedArticle

RENDER_VERSION = 1
"""Raise it when `core.render` changes what an unchanged article renders to."""


_Entry = tuple[bytes | str, ...]
"""An article's last rendering: its key, content hash, then the `/kba/` slugs it looked up. A
flat tuple of bytes and strings, which the garbage collector stops tracking the first time it
looks at it (an object per article fewer for each full collection to walk)."""


def digest(text: str) -> bytes:
    """A short fingerprint of an article's body."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class LookedUp(Mapping[str, int]):
    """The slug → Hudu id map the renderer reads, noting every slug it asks about."""

    def __init__(self, slugs: Mapping[str, int]) -> None:
        self.slugs = slugs
        self.asked: list[str] = []

    def __getitem__(self, slug: str) -> int:
        return self.slugs[slug]

    def __contains__(self, slug: object) -> bool:
        if isinstance(slug, str):
            self.asked.append(slug)
        return slug in self.slugs

    def __iter__(self) -> Iterator[str]:
        return iter(self.slugs)

    def __len__(self) -> int:
        return len(self.slugs)


class RenderCache:
    """The last rendering of each article (by Hudu id): its key and content hash."""

    def __init__(self, renderer: LinkedRenderer) -> None:
        self.renderer = renderer
        self._entries: dict[int, _Entry] = {}
        self.hits = 0
        self.renders = 0

    def content_hash(
        self,
        article: HuduArticle,
        faqlist_id: int,
        files: Sequence[HuduUpload],
        client_id: int | None,
        slugs: Mapping[str, int],
        halo_id_of: Callable[[int], int | None],
        body_digest: bytes | None = None,
    ) -> str | None:
        """The content hash the article would render to, when its inputs are those of its
        last rendering; None when it must be rendered. `body_digest` stands for the content
        of an article whose body waits in a spool (`digest` of it)."""
        entry = self._entries.get(article.id)
        if entry is None:
            return None
        remembered, content_hash, *links = entry
        if body_digest is None:
            body_digest = digest(article.content)
        key = self._key(
            article,
            body_digest,
            faqlist_id,
            files,
            client_id,
            cast(list[str], links),
            slugs,
            halo_id_of,
        )
        if key != remembered:
            return None
        self.hits += 1
        return cast(str, content_hash)

    def remember(
        self,
        article: HuduArticle,
        faqlist_id: int,
        files: Sequence[HuduUpload],
        client_id: int | None,
        looked_up: LookedUp,
        halo_id_of: Callable[[int], int | None],
        rendered: RenderedArticle,
    ) -> None:
        self.renders += 1
        links = tuple(dict.fromkeys(looked_up.asked))
        key = self._key(
            article,
            digest(article.content),
            faqlist_id,
            files,
            client_id,
            links,
            looked_up.slugs,
            halo_id_of,
        )
        self._entries[article.id] = (key, rendered.content_hash, *links)

    def _key(
        self,
        article: HuduArticle,
        body_digest: bytes,
        faqlist_id: int,
        files: Sequence[HuduUpload],
        client_id: int | None,
        links: Sequence[str],
        slugs: Mapping[str, int],
        halo_id_of: Callable[[int], int | None],
    ) -> bytes:
        resolved = [
            (slug, halo_id_of(slugs[slug]) if slug in slugs else "no article") for slug in links
        ]
        renderer = self.renderer
        source = repr(
            (
                RENDER_VERSION,
                dataclasses.replace(article, content=""),
                body_digest,
                tuple(files),
                faqlist_id,
                client_id,
                resolved,
                renderer.options,
                renderer.hudu_base_url,
                renderer.halo_url(0),
            )
        )
        return hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()
