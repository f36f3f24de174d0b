"""What a pass holds in memory (issue 10: peak RSS at 50,000 articles), counted, not timed."""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from typing import Any

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState
from core.engine import Engine
from core.models import HaloArticleRef
from core.plan import Write
from tests.conftest import EngineFactory

ARTICLES = 120
BATCH = 10


def live(kind: type) -> int:
    """Instances of `kind` alive now (planning freezes what it makes: counted too)."""
    gc.unfreeze()
    gc.collect()
    return sum(type(o) is kind for o in gc.get_objects())


def numbered(hudu: HuduState, count: int) -> list[int]:
    return [
        hudu.add_article(f"Procedure {n}", f"<p>Step {n}: restart the service.</p>", None)["id"]
        for n in range(count)
    ]


async def test_a_write_is_let_go_once_its_batch_is_answered(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    numbered(hudu, ARTICLES)
    engine: Engine = make_engine(hhsync_batch_size=BATCH)
    await engine.open()
    held: list[int] = []
    send = engine.halo.upsert_articles

    async def counted(payloads: Sequence[Mapping[str, Any]]) -> list[HaloArticleRef]:
        held.append(live(Write))
        return await send(payloads)

    engine.halo.upsert_articles = counted  # type: ignore[method-assign]
    try:
        summary = await engine.sync_now()
    finally:
        gc.unfreeze()

    assert summary.created == ARTICLES
    assert len(held) >= ARTICLES // BATCH
    # Four batches in flight at most; the rest were sent and let go (all 120 were held).
    assert held[-1] <= 4 * BATCH
    assert len(halo.articles) == ARTICLES
