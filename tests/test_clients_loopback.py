"""Both clients over real loopback sockets: uvicorn serves the emulators from a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.emulators.halo import HaloState
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.server import (
    RunningServer,
    create_emulator_app,
    free_port,
    new_states,
    serve_in_thread,
)
from core.errors import HaloUnreachableError, HuduUnreachableError, WriteUncertainError
from core.halo import HaloClient
from core.hudu import HuduClient
from core.models import marker_for
from tests.test_ratelimit import FakeTime


@pytest.fixture(scope="module")
def emulators() -> Iterator[tuple[RunningServer, HuduState, HaloState]]:
    hudu, halo = new_states()
    with serve_in_thread(create_emulator_app(hudu, halo)) as server:
        hudu.base_url = f"{server.url}/hudu"
        halo.base_url = f"{server.url}/halo"
        yield server, hudu, halo


def hudu_client(url: str, key: str, **kw: object) -> HuduClient:
    return HuduClient(url, key, timeout=5.0, **kw)  # type: ignore[arg-type]


def halo_client(server: RunningServer, halo: HaloState) -> HaloClient:
    base = f"{server.url}/halo"
    return HaloClient(base, f"{base}/auth", halo.client_id, halo.client_secret, timeout=5.0)


async def test_hudu_listing_and_download_over_a_socket(
    emulators: tuple[RunningServer, HuduState, HaloState],
) -> None:
    server, hudu, _ = emulators
    for i in range(120):
        hudu.add_article(f"Loopback {i}")
    article = hudu.add_article("With a file")
    payload = bytes(range(256)) * 400
    upload = hudu.add_upload(article["id"], "manual.pdf", data=payload)
    async with hudu_client(f"{server.url}/hudu", hudu.api_key) as client:
        articles = await client.list_articles()
        files = (await client.uploads_by_article())[article["id"]]
        data = await client.download_upload(upload["id"])
    assert len(articles) == 121
    assert [f.name for f in files] == ["manual.pdf"]
    assert data == payload


async def test_hudu_download_redirect_over_a_socket() -> None:
    state = HuduState(api_key="loopback-key", redirect_downloads=True)
    article = state.add_article("Stored in the cloud")
    upload = state.add_upload(article["id"], "big.pdf", size=300_000)
    with serve_in_thread(create_hudu_app(state)) as server:
        async with hudu_client(server.url, state.api_key) as client:
            data = await client.download_upload(upload["id"])
    assert data == state.upload_bytes(upload["id"])
    assert [e.status for e in state.log.entries] == [302, 200]


async def test_halo_write_and_dropped_connection_over_a_socket(
    emulators: tuple[RunningServer, HuduState, HaloState],
) -> None:
    server, _, halo = emulators
    faq = halo.add_faqlist("Central KB")
    async with halo_client(server, halo) as client:
        assert await client.check_credentials() == {"read:kb", "edit:kb"}
        refs = await client.upsert_articles(
            [
                {"name": "One", "tag_string": marker_for(1), "faqlists": [{"id": faq["id"]}]},
                {"name": "Two", "tag_string": marker_for(2), "faqlists": [{"id": faq["id"]}]},
            ]
        )
        halo.drop_after_commit = 1
        with pytest.raises(WriteUncertainError):
            await client.upsert_articles([{"name": "Three", "tag_string": marker_for(3)}])
        adopted = await client.find_articles_by_marker(marker_for(3))
    assert [r.name for r in refs] == ["One", "Two"]
    assert len(halo.log.writes("/api/KBArticle")) == 2  # the dropped write was never retried
    assert [r.name for r in adopted] == ["Three"]


async def test_nothing_listening_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    time = FakeTime()
    async with hudu_client(url, "k", sleep=time.sleep, clock=time.clock) as client:
        with pytest.raises(HuduUnreachableError) as caught:
            await client.api_info()
    assert "HUDU_BASE_URL" in caught.value.hint and len(time.sleeps) == 3
    halo = HaloClient(url, "", "id", "secret", timeout=5.0, sleep=time.sleep, clock=time.clock)
    async with halo:
        with pytest.raises(HaloUnreachableError) as halo_caught:
            await halo.list_faqlists()
    assert "HALO_BASE_URL" in halo_caught.value.hint
    assert "secret" not in str(halo_caught.value)
