"""Files downloaded from Hudu ahead of their batches (core.prefetch): in send order, within a
budget, each once, and a failure raised where the writer asks for the file."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from core.build import build_engine
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.errors import HuduAuthError, HuduError
from core.hudu import HuduClient
from core.models import HuduUpload
from core.prefetch import FilePrefetch
from tests.conftest import make_settings, no_wait

KB_PATH = "/api/KBArticle"


class GatedHudu:
    """Downloads that finish when the test opens their gate; what is asked is counted."""

    def __init__(self, failing: dict[int, Exception] | None = None) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.asked: Counter[int] = Counter()
        self.failing = failing or {}

    def gate(self, upload_id: int) -> asyncio.Event:
        return self.gates.setdefault(upload_id, asyncio.Event())

    def open(self, *upload_ids: int) -> None:
        for upload_id in upload_ids:
            self.gate(upload_id).set()

    async def download_upload(self, upload_id: int, *, max_bytes: int | None = None) -> bytes:
        self.asked[upload_id] += 1
        await self.gate(upload_id).wait()
        if upload_id in self.failing:
            raise self.failing[upload_id]
        return bytes([upload_id]) * 100


def upload(upload_id: int, size: int = 100) -> HuduUpload:
    return HuduUpload(upload_id, f"f{upload_id}.pdf", "pdf", "", size, "", "Article", 1)


def prefetch(hudu: GatedHudu, uploads: list[HuduUpload], budget: int = 10_000) -> FilePrefetch:
    return FilePrefetch(cast(HuduClient, hudu), uploads, max_bytes=1_000, budget=budget)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_files_are_fetched_in_send_order_as_far_ahead_as_the_budget_allows() -> None:
    hudu = GatedHudu()
    files = prefetch(hudu, [upload(n) for n in range(1, 6)], budget=250)
    files.start()
    await settle()
    assert set(hudu.asked) == {1, 2}  # a third would pass 250 bytes
    hudu.open(1, 2)
    await settle()
    assert set(hudu.asked) == {1, 2} and files.ready([upload(1), upload(2)])
    assert not files.ready([upload(3)])

    assert await files.data(upload(1)) == bytes([1]) * 100
    await settle()
    assert set(hudu.asked) == {1, 2, 3}  # its room went to the next in line
    await files.close()


async def test_the_files_of_a_write_not_sent_give_their_room_back_at_once() -> None:
    """A write dropped before its batch (unlinked while it waited, an image that could not be
    copied): its files, downloaded or on their way, let the next ones in line come."""
    hudu = GatedHudu()
    files = prefetch(hudu, [upload(n) for n in range(1, 6)], budget=250)
    files.start()
    await settle()
    assert set(hudu.asked) == {1, 2}
    hudu.open(1)
    await settle()
    files.let_go([upload(1), upload(2)])  # one downloaded, one on its way
    await settle()
    assert set(hudu.asked) == {1, 2, 3}  # the downloaded one's room, at once
    hudu.open(2)
    await settle()
    assert set(hudu.asked) == {1, 2, 3, 4}  # and the other's once it came
    files.let_go([upload(5)])  # not started yet: never downloaded
    hudu.open(3, 4)
    await settle()
    assert set(hudu.asked) == {1, 2, 3, 4} and hudu.asked[1] == 1
    await files.close()


async def test_each_file_is_downloaded_once_even_when_asked_for_before_its_turn() -> None:
    hudu = GatedHudu()
    hudu.open(*range(1, 6))
    files = prefetch(hudu, [upload(n) for n in range(1, 6)], budget=100)
    files.start()
    assert await files.data(upload(4)) == bytes([4]) * 100  # not started yet: fetched now
    for n in (1, 2, 3, 5):
        assert await files.data(upload(n)) == bytes([n]) * 100
    await files.close()

    assert hudu.asked == Counter({1: 1, 2: 1, 3: 1, 4: 1, 5: 1})


async def test_a_failed_download_is_raised_where_the_file_is_asked_for_and_the_rest_go_on() -> None:
    hudu = GatedHudu(failing={2: HuduError("Hudu answered 500", status=500)})
    hudu.open(1, 2, 3)
    files = prefetch(hudu, [upload(1), upload(2), upload(3)])
    files.start()
    await settle()
    assert files.ready([upload(1), upload(2), upload(3)])  # failed counts as here

    with pytest.raises(HuduError, match="500"):
        await files.data(upload(2))
    assert await files.data(upload(3)) == bytes([3]) * 100
    await files.close()


async def test_a_refused_api_key_stops_the_prefetching() -> None:
    hudu = GatedHudu(failing={1: HuduAuthError("Hudu refused the API key", status=401)})
    hudu.open(1)
    files = prefetch(hudu, [upload(n) for n in range(1, 20)], budget=100)
    files.start()
    await settle()

    assert set(hudu.asked) == {1}
    assert files.ready([upload(7)])  # stopped: the writer fetches it itself
    with pytest.raises(HuduAuthError):
        await files.data(upload(1))
    await files.close()


async def test_closing_stops_the_downloads_and_lets_go_of_what_waits() -> None:
    hudu = GatedHudu()
    hudu.open(1)
    files = prefetch(hudu, [upload(1), upload(2)])
    files.start()
    await settle()
    await files.close()

    assert files.ready([upload(2)])  # no longer coming: the writer would fetch it
    assert await files.data(upload(1)) == bytes([1]) * 100
    assert hudu.asked[1] == 2  # what was fetched ahead was let go: fetched again


# ---------------------------------------------------------------- in the engine
def gated_downloads(app: Any, path_end: str, gate: asyncio.Event) -> Any:
    """Hudu, its download of one file answered only once `gate` opens."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith(path_end):
            await gate.wait()
        await app(scope, receive, send)

    return wrapped


def posted_names(app: Any, posted: list[list[str]], gate: asyncio.Event) -> Any:
    """Halo, the names of each KBArticle POST's articles kept; `gate` opens at the first."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != KB_PATH:
            await app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        posted.append([item["name"] for item in json.loads(body)])
        gate.set()
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:  # connected until the answer is whole
                await asyncio.get_running_loop().create_future()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return wrapped


async def test_a_write_waiting_for_its_file_does_not_hold_up_the_writes_behind_it(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> None:
    first = hudu.add_article("Article 0", "<p>With a file.</p>")["id"]
    uploaded = hudu.add_upload(first, "runbook.pdf", data=b"%PDF-1.7 runbook")["id"]
    for n in range(1, 40):
        hudu.add_article(f"Article {n}", f"<p>Body {n}.</p>")
    gate, posted = asyncio.Event(), list[list[str]]()
    engine = build_engine(
        make_settings(tmp_path / "db.json", hhsync_batch_size=10),
        hudu_transport=httpx.ASGITransport(
            app=gated_downloads(create_hudu_app(hudu), f"/uploads/{uploaded}", gate)
        ),
        halo_transport=httpx.ASGITransport(app=posted_names(create_halo_app(halo), posted, gate)),
        sleep=no_wait,
    )
    await engine.open()
    await engine.sync_now()
    await engine.close()

    assert "Article 0" not in posted[0] and "Article 1" in posted[0]
    assert sorted(name for names in posted for name in names) == sorted(
        f"Article {n}" for n in range(40)
    )
    copy = next(a for a in halo.articles.values() if a["name"] == "Article 0")
    assert [a["filename"] for a in copy["attachments"]] == ["runbook.pdf"]
    downloads = [r for r in hudu.log.entries if r.path.endswith(f"/uploads/{uploaded}")]
    assert len(downloads) == 1
