"""HHSYNC_IMAGES end to end against the emulators: where the images of Halo's copies live,
what each pass sends, and what never leaves Hudu."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import core.images
from core.build import build_engine
from core.demo import build_demo
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app, tiny_png
from core.engine import Engine
from core.errors import MalformedResponseError, TooLargeError
from core.events import EngineLogged, Event
from core.halo import HaloClient
from core.hudu import HuduClient
from core.image_refs import with_images
from core.models import HuduArticle, Status
from core.render import RenderOptions, content_hash, render_article
from tests.cli_helpers import invoke_hhsync
from tests.conftest import (
    HALO_URL,
    HUDU_URL,
    EngineFactory,
    Loopback,
    halo_copies,
    hhsync_env,
    make_settings,
    no_wait,
)

IMAGE_POST = ("POST", "/api/Attachment/image")


def photo_article(hudu: HuduState, name: str, *images: bytes, extra: str = "") -> int:
    """A Central KB article showing each image as Hudu's editor does (a link around it)."""
    article_id = int(hudu.add_article(name, "<p>…</p>")["id"])
    slugs = [
        hudu.add_public_photo(article_id, f"shot-{n}.png", data)["id"]
        for n, data in enumerate(images)
    ]
    hudu.articles[article_id].content = (
        f"<p>{name}</p>"
        + "".join(
            f'<p><a href="/public_photo/{s}"><img src="/public_photo/{s}" alt="step"></a></p>'
            for s in slugs
        )
        + extra
    )
    return article_id


def body(halo: HaloState, hudu_id: int) -> str:
    (copy,) = halo_copies(halo, hudu_id)
    return str(copy["description_html"])


def sources(halo: HaloState, hudu_id: int) -> list[str]:
    tree = LexborHTMLParser(body(halo, hudu_id), is_fragment=True)
    return [node.attrs.get("src") or "" for node in tree.css("img")]


def links(halo: HaloState, hudu_id: int) -> list[str]:
    tree = LexborHTMLParser(body(halo, hudu_id), is_fragment=True)
    return [node.attrs.get("href") or "" for node in tree.css("a:has(img)")]


async def served_by_halo(halo: HaloState, url: str) -> bytes:
    """What a reader's browser gets for `url` from Halo alone (Hudu plays no part)."""
    transport = httpx.ASGITransport(app=create_halo_app(halo))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(url)
    assert response.status_code == 200, url
    return response.content


def photo_requests(hudu: HuduState) -> int:
    return sum(1 for r in hudu.log.entries if "/public_photo/" in r.path)


def logged(engine: Engine) -> list[str]:
    lines: list[str] = []

    def listen(event: Event) -> None:
        if isinstance(event, EngineLogged):
            lines.append(event.message)

    engine.subscribe(listen)
    return lines


@pytest.fixture
async def copying(make_engine: EngineFactory) -> Engine:
    engine = make_engine(hhsync_images="copy")
    await engine.open()
    return engine


async def test_copy_stores_each_image_in_halo_once_and_the_article_reads_without_hudu(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    first, second = tiny_png(1, size=4), tiny_png(2, size=4)
    both = photo_article(hudu, "VPN setup", first, second)
    same = photo_article(hudu, "VPN again", second)  # the same bytes under another slug
    plain = int(hudu.add_article("No pictures", "<p>text</p>")["id"])

    summary = await copying.sync_now()

    assert summary.failed == 0 and summary.created == 3
    assert halo.log.count(*IMAGE_POST) == 2  # content-addressed: `second` is sent once
    for hudu_id, expected in ((both, [first, second]), (same, [second])):
        srcs = sources(halo, hudu_id)
        assert all(s.startswith(f"{HALO_URL}/api/attachment/image?token=") for s in srcs), srcs
        assert links(halo, hudu_id) == srcs  # the link around each image opens the copy
        assert "public_photo" not in body(halo, hudu_id)
        assert [await served_by_halo(halo, s) for s in srcs] == expected
    assert sources(halo, both)[1] == sources(halo, same)[0]
    assert "<img" not in body(halo, plain)


async def test_an_unchanged_image_is_never_downloaded_or_sent_again(
    copying: Engine, make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    photo = tiny_png(7, size=4)
    article = photo_article(hudu, "Printer mapping", photo)
    await copying.sync_now()
    halo.log.clear()
    hudu.log.clear()

    full = await copying.sync_now(full=True)
    assert (full.created, full.updated) == (0, 0)
    assert halo.log.count(*IMAGE_POST) == 0 and photo_requests(hudu) == 0
    await copying.close()

    content = hudu.articles[article].content.replace("<p>Printer mapping</p>", "<p>Edited</p>")
    hudu.update_article(article, content=content)
    other = photo_article(hudu, "Same screenshot, new article", photo)
    restarted = make_engine(hhsync_images="copy")  # what it copied is in the mapping file
    await restarted.open()
    edited = await restarted.sync_now()

    assert (edited.created, edited.updated) == (1, 1)
    assert photo_requests(hudu) == 1  # only the new slug is fetched, to learn its content
    assert halo.log.count(*IMAGE_POST) == 0  # its bytes are already in Halo
    assert sources(halo, other) == sources(halo, article)


async def test_switching_link_to_copy_and_back_resends_only_articles_with_images(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    with_image = photo_article(hudu, "Firewall rules", tiny_png(3, size=4))
    without = int(hudu.add_article("Plain words", "<p>text</p>")["id"])
    linking = make_engine()
    await linking.open()
    await linking.sync_now()
    hudu_src = sources(halo, with_image)[0]
    assert hudu_src.startswith(f"{HUDU_URL}/public_photo/")
    assert halo.log.count(*IMAGE_POST) == 0
    await linking.close()

    copying = make_engine(hhsync_images="copy")
    await copying.open()
    switched = await copying.sync_now()  # incremental: nothing changed in Hudu
    assert (switched.full, switched.created, switched.updated) == (False, 0, 1)
    assert sources(halo, with_image)[0].startswith(f"{HALO_URL}/api/attachment/image")
    assert halo.log.count(*IMAGE_POST) == 1
    assert (await copying.sync_now()).updated == 0
    await copying.close()

    back = make_engine(hhsync_images="link")
    await back.open()
    halo.log.clear()
    returned = await back.sync_now()
    assert (returned.created, returned.updated) == (0, 1)
    assert sources(halo, with_image) == [hudu_src]
    assert halo.log.count(*IMAGE_POST) == 0
    assert "<img" not in body(halo, without)


async def test_an_image_over_halos_limit_stays_linked_and_the_article_says_so(
    copying: Engine, hudu: HuduState, halo: HaloState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.images, "MAX_ATTACHMENT_BYTES", 500)
    small, large = tiny_png(4, size=4), tiny_png(5, size=300)
    assert len(small) < 500 < len(large)
    article = photo_article(hudu, "Rack photos", small, large)

    summary = await copying.sync_now()

    assert summary.failed == 0
    kept, copied = sources(halo, article)[1], sources(halo, article)[0]
    assert copied.startswith(HALO_URL) and kept.startswith(f"{HUDU_URL}/public_photo/")
    text = LexborHTMLParser(body(halo, article)).text()
    assert "Images kept in Hudu" in text and "larger than Halo's" in text
    assert halo.log.count(*IMAGE_POST) == 1
    row: Any = copying.record(article)  # listed as synced without it, as a file would be
    assert row.status is Status.SKIPPED
    assert row.reason.startswith("synced without image ")
    assert "kept in Hudu: larger than Halo's" in row.reason


async def test_bytes_that_are_not_an_image_are_never_sent_to_halo(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    article = photo_article(hudu, "Odd photo", b"<html><script>alert(1)</script></html>")

    await copying.sync_now()

    assert halo.log.count(*IMAGE_POST) == 0 and halo.images == {}
    assert sources(halo, article)[0].startswith(f"{HUDU_URL}/public_photo/")
    assert "not an image Halo can show" in body(halo, article)


async def test_foreign_and_hostile_sources_are_never_fetched(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    hostile = (
        '<img src="https://evil.test/public_photo/abc">'
        '<img src="//evil.test/public_photo/abc">'
        '<img src="http://hudu.test/public_photo/abc">'  # Hudu's host, another scheme
        '<img src="javascript:alert(1)">'
        '<img src="/kba/abc">'
        '<img src="/public_photo/abc?redirect=https://evil.test">'
    )
    article = int(hudu.add_article("Hostile", f"<p>x</p>{hostile}")["id"])

    summary = await copying.sync_now()

    assert summary.failed == 0
    assert photo_requests(hudu) == 0 and halo.images == {}
    srcs = sources(halo, article)
    assert "https://evil.test/public_photo/abc" in srcs
    assert not any(s.startswith(HALO_URL) or s.startswith("javascript") for s in srcs)
    assert "Images kept in Hudu" not in body(halo, article)  # not Hudu's images: left alone


async def test_a_pasted_data_image_is_stored_in_halo_too(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    png = tiny_png(9, size=4)
    pasted = f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
    article = int(hudu.add_article("Pasted", f"<p>x</p>{pasted}")["id"])

    await copying.sync_now()

    (src,) = sources(halo, article)
    assert src.startswith(f"{HALO_URL}/api/attachment/image")
    assert await served_by_halo(halo, src) == png


async def test_halo_refusing_image_uploads_inlines_small_images_and_says_so(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    halo.image_needs_ticket = True
    small = tiny_png(6, size=4)
    large = b"\x89PNG\r\n\x1a\n" + bytes(core.images.MAX_INLINE_BYTES)
    article = photo_article(hudu, "Switch ports", small, large)
    lines = logged(copying)

    summary = await copying.sync_now()

    assert summary.failed == 0
    inline, kept = sources(halo, article)
    assert base64.b64decode(inline.removeprefix("data:image/png;base64,")) == small
    assert kept.startswith(f"{HUDU_URL}/public_photo/")
    assert "Halo refuses image uploads" in body(halo, article)
    assert halo.images == {} and halo.log.count(*IMAGE_POST) == 1  # tried once, then inline
    assert any("Halo refused an image upload" in line for line in lines)


async def test_the_probe_checks_the_image_endpoint_and_the_sync_follows_it(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    halo.image_needs_ticket = True
    report = await copying.probe()
    (fact,) = [f for f in report.profile.facts if f.key == "image_upload"]
    assert fact.verdict.name == "ADAPTED" and report.profile.image_upload is False
    halo.log.clear()

    article = photo_article(hudu, "Door codes", tiny_png(8, size=4))
    await copying.sync_now()

    assert halo.log.count(*IMAGE_POST) == 0  # the probe said no: not tried again
    assert sources(halo, article)[0].startswith("data:image/png;base64,")


async def test_the_probe_sees_a_working_image_endpoint(copying: Engine, halo: HaloState) -> None:
    report = await copying.probe()

    (fact,) = [f for f in report.profile.facts if f.key == "image_upload"]
    assert fact.verdict.name == "AS_EXPECTED" and report.profile.image_upload is True


async def test_the_probe_leaves_the_image_endpoint_alone_when_images_are_linked(
    engine: Engine, halo: HaloState
) -> None:
    report = await engine.probe()

    assert [f for f in report.profile.facts if f.key == "image_upload"] == []
    assert halo.log.count(*IMAGE_POST) == 0


class _PhotosDown:
    """Hudu's app, answering 503 for public photos while `down`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.down = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.down and scope["type"] == "http" and "/public_photo/" in scope["path"]:
            await PlainTextResponse("Service Unavailable", 503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.fixture
async def photos_down(
    tmp_path: Path, hudu: HuduState, halo: HaloState
) -> AsyncIterator[tuple[Engine, _PhotosDown]]:
    gate = _PhotosDown(create_hudu_app(hudu))
    engine = build_engine(
        make_settings(tmp_path / "hhsync.json", hhsync_images="copy"),
        hudu_transport=httpx.ASGITransport(app=gate),
        halo_transport=httpx.ASGITransport(app=create_halo_app(halo)),
        sleep=no_wait,
    )
    await engine.open()
    yield engine, gate
    await engine.close()


async def test_an_image_hudu_cannot_serve_now_fails_its_article_until_it_can(
    photos_down: tuple[Engine, _PhotosDown], hudu: HuduState, halo: HaloState
) -> None:
    engine, gate = photos_down
    article = photo_article(hudu, "Wi-Fi", tiny_png(10, size=4))
    plain = int(hudu.add_article("Plain", "<p>text</p>")["id"])

    first = await engine.sync_now()

    assert (first.created, first.failed) == (1, 1)
    assert halo_copies(halo, plain) and not halo_copies(halo, article)
    failed: Any = engine.record(article)
    assert (failed.status, failed.http_status) == (Status.FAILED, 503)
    assert "Hudu" in failed.hint

    gate.down = False
    await engine.retry_failed()
    assert engine.record(article).status is Status.SYNCED  # type: ignore[union-attr]
    assert sources(halo, article)[0].startswith(HALO_URL)


def test_doctor_reports_the_setting(loopback: Loopback, tmp_path: Path) -> None:
    server, _hudu, _halo = loopback
    linked = invoke_hhsync(["doctor"], hhsync_env(server, tmp_path), tmp_path)
    assert "✓ HHSYNC_IMAGES=link: images stay in Hudu" in linked.stdout

    env = hhsync_env(server, tmp_path, HHSYNC_IMAGES="copy")
    unchecked = invoke_hhsync(["doctor"], env, tmp_path)
    assert "! HHSYNC_IMAGES=copy: Halo's image endpoint is not checked yet" in unchecked.stdout


def test_doctor_probe_checks_the_image_endpoint_and_doctor_shows_the_verdict(
    loopback: Loopback, tmp_path: Path
) -> None:
    server, hudu, _halo = loopback
    photo_article(hudu, "Badge printer", tiny_png(11, size=4))
    env = hhsync_env(server, tmp_path, HHSYNC_IMAGES="copy")

    probed = invoke_hhsync(["doctor", "--probe"], env, tmp_path)
    assert "✓ image_upload: expected POST /Attachment/image stores an image" in probed.stdout
    assert invoke_hhsync(["sync"], env, tmp_path).returncode == 0
    after = invoke_hhsync(["doctor"], env, tmp_path)
    assert "✓ HHSYNC_IMAGES=copy: images are stored with Halo's image endpoint" in after.stdout
    assert "1 image(s) stored in Halo so far" in after.stdout


async def test_an_upload_shown_in_the_body_is_copied_through_hudus_api(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    png = tiny_png(12, size=4)
    article = int(hudu.add_article("Wiring", "<p>…</p>")["id"])
    upload = hudu.add_upload(article, "wiring.png", data=png, mime="image/png")
    hudu.articles[article].content = f'<p>Diagram</p><img src="/file/{upload["id"]}">'

    await copying.sync_now()

    (src,) = sources(halo, article)
    assert src.startswith(f"{HALO_URL}/api/attachment/image")
    assert await served_by_halo(halo, src) == png
    assert hudu.log.count("GET", f"/api/v1/uploads/{upload['id']}") >= 1


async def test_the_demo_copies_its_images_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HHSYNC_IMAGES", "copy")
    demo = build_demo(tmp_path / "hhsync.json", articles=120, companies=4, latency=False)
    await demo.engine.open()
    try:
        await demo.engine.sync_now()
    finally:
        await demo.engine.close()

    assert demo.halo.images  # the demo's screenshots are in Halo
    odd = [r for r in demo.engine.records() if "not an image Halo can show" in r.reason]
    assert len(odd) == 1 and odd[0].status is Status.SKIPPED
    assert odd[0].reason.startswith("synced without image network-diagram.png: kept in Hudu")


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "https://evil.test/x.png", "//evil.test/x.png", "", None],
)
async def test_an_image_link_not_on_halo_is_never_put_in_an_article(link: str | None) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"link": link})

    halo = HaloClient(HALO_URL, "", "id", "secret", transport=httpx.MockTransport(answer))
    with pytest.raises(MalformedResponseError):
        await halo.upload_image("a.png", tiny_png(1), "image/png")


async def test_an_image_link_on_halo_is_made_absolute() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        assert b'name="file"; filename="a.png"' in request.content
        return httpx.Response(200, json={"link": '/api/attachment/image?token=a"b'})

    halo = HaloClient(HALO_URL, "", "id", "secret", transport=httpx.MockTransport(answer))
    url = await halo.upload_image("a.png", tiny_png(1), "image/png")

    assert url == f'{HALO_URL}/api/attachment/image?token=a"b'
    replaced = with_images('<img src="https://hudu.test/p">', {"https://hudu.test/p": url}, ())
    assert replaced == f'<img src="{HALO_URL}/api/attachment/image?token=a&quot;b">'


def test_an_image_whose_source_has_angle_brackets_is_pointed_at_its_copy() -> None:
    content = '<p><img src="/public_photo/a<b>"></p>'
    article = HuduArticle(1, "A", content, "s", "", None, None, False, False, False, "", None, None)
    rendered = render_article(
        article, hudu_base_url=HUDU_URL, faqlist_id=3, options=RenderOptions(images="copy")
    )
    body = rendered.payload["description_html"]
    (src,) = rendered.images

    replaced = with_images(body, {src: f"{HALO_URL}/image/1"}, ())
    assert f'<img src="{HALO_URL}/image/1">' in replaced


def test_link_mode_hashes_what_it_always_did() -> None:
    """Upgrading hhsync with the default setting re-sends nothing."""
    content = '<p><img src="/public_photo/abc"></p>'
    article = HuduArticle(1, "A", content, "s", "", None, None, False, False, False, "", None, None)
    rendered = render_article(article, hudu_base_url=HUDU_URL, faqlist_id=3)
    copied = render_article(
        article, hudu_base_url=HUDU_URL, faqlist_id=3, options=RenderOptions(images="copy")
    )

    assert rendered.content_hash == content_hash(rendered.payload, ())
    assert rendered.images == ()
    assert copied.images == (f"{HUDU_URL}/public_photo/abc",)
    assert copied.content_hash != rendered.content_hash


async def test_a_download_stops_once_past_its_cap_whatever_hudu_declares() -> None:
    pulled: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for n in range(10_000):
            pulled.append(n)
            yield b"\x89PNG" + bytes(1020)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())  # no Content-Length

    hudu = HuduClient(HUDU_URL, "key", transport=httpx.MockTransport(answer))
    with pytest.raises(TooLargeError):
        await hudu.download_public_photo(f"{HUDU_URL}/public_photo/x", max_bytes=10_000)
    assert len(pulled) < 20


async def test_batches_in_flight_showing_the_same_new_image_copy_it_once(
    make_engine: EngineFactory, hudu: HuduState, halo: HaloState
) -> None:
    photo = tiny_png(13, size=4)
    first = photo_article(hudu, "Lobby kiosk", photo)
    slug = hudu.articles[first].content.split("/public_photo/")[1].split('"')[0]
    shared = f'<p><img src="/public_photo/{slug}"></p>'
    others = [int(hudu.add_article(f"Kiosk {n}", shared)["id"]) for n in range(7)]
    engine = make_engine(hhsync_images="copy", hhsync_batch_size=1)  # 4 batches at once
    await engine.open()
    hudu.switches.latency = 0.02  # the downloads overlap

    await engine.sync_now()

    assert photo_requests(hudu) == 1 and halo.log.count(*IMAGE_POST) == 1
    assert {sources(halo, i)[0] for i in (first, *others)} == {sources(halo, first)[0]}


async def test_a_dry_run_fetches_and_stores_no_image(
    copying: Engine, hudu: HuduState, halo: HaloState
) -> None:
    photo_article(hudu, "Dock setup", tiny_png(14, size=4))

    planned = await copying.sync_now(dry_run=True)

    assert [change.action for change in planned.plan] == ["create"]
    assert halo.articles == {}
    assert photo_requests(hudu) == 0 and halo.log.count(*IMAGE_POST) == 0
