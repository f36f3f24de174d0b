"""An article's body is encoded to JSON once, from rendering to the KBArticle POST (issue 10:
CPU per article), and what is sent and hashed stays what it was."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator

import httpx
import pytest

import core.halo
from core.models import HuduArticle, HuduUpload
from core.render import RenderOptions, article_payload, content_hash, render_article
from core.spool import BodySpool
from tests.test_render import article as hudu_article

BODY = '<p>Schlüssel „grün“ \\ "quoted" \t tab</p>' + "<p>words</p>" * 200


def article(company_id: int | None = None, content: str = BODY) -> HuduArticle:
    return hudu_article(
        content, id=5, name="Wi-Fi „Büro“", slug="wifi", url="", company_id=company_id
    )


@pytest.fixture
def body_encodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """How many times the rendered body went through the JSON string encoder."""
    encoded: list[str] = []
    encode = json.encoder.encode_basestring

    def counting(text: str) -> str:
        if "Schlüssel" in text and text.startswith("<div>"):
            encoded.append(text)
        return str(encode(text))

    monkeypatch.setattr(json.encoder, "encode_basestring", counting)
    yield lambda: len(encoded)


async def test_a_spooled_article_is_hashed_spooled_and_sent_with_one_encoding_of_its_body(
    body_encodes: Callable[[], int],
) -> None:
    rendered = render_article(article(), hudu_base_url="https://hudu.example", faqlist_id=2)
    spool = BodySpool()
    try:
        payload = article_payload(rendered.spooled(spool), halo_id=9)
        sent = await core.halo.encoded_in_slices([payload, {"id": 3, "inactive": True}])
    finally:
        spool.close()

    assert body_encodes() == 1
    plain = {**rendered.payload, "id": 9}
    expected = httpx.Request("POST", "https://h", json=[plain, {"id": 3, "inactive": True}])
    assert bytes(sent) == expected.read()
    assert json.loads(bytes(sent))[0]["description_html"] == rendered.payload["description_html"]


@pytest.mark.parametrize(
    ("company_id", "client_id", "options"),
    [
        (None, None, RenderOptions()),
        (12, 40, RenderOptions(tag_path="tags")),
        (12, None, RenderOptions(body_fields=("description_html",), images="copy")),
    ],
)
def test_the_hash_of_the_body_encoded_once_is_the_canonical_one(
    company_id: int | None, client_id: int | None, options: RenderOptions
) -> None:
    files = [HuduUpload(3, "Plan „A“.pdf", "pdf", "application/pdf", 10, "/file/3", "Article", 5)]
    rendered = render_article(
        article(company_id, BODY + '<img src="/public_photo/x">'),
        hudu_base_url="https://hudu.example",
        faqlist_id=2,
        files=files,
        client_id=client_id,
        options=options,
    )
    images = options.images if options.images != "link" else ""

    assert rendered.content_hash == content_hash(rendered.payload, files, images=images)
    canonical = json.dumps(
        {"payload": rendered.payload, "files": [{"id": 3, "name": "Plan „A“.pdf", "size": 10}]}
        | ({"images": images} if images else {}),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert rendered.json_bytes == len(canonical.encode())


async def test_a_files_base64_is_sent_without_going_through_the_json_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bytes(range(256)) * 40
    files = [HuduUpload(3, "Plan „A“.pdf", "pdf", "application/pdf", len(data), "/f", "Article", 5)]
    rendered = render_article(
        article(), hudu_base_url="https://hudu.example", faqlist_id=2, files=files
    )
    scanned: list[str] = []
    encode = json.encoder.encode_basestring

    def watching(text: str) -> str:
        scanned.append(text)
        return str(encode(text))

    monkeypatch.setattr(json.encoder, "encode_basestring", watching)
    payload = article_payload(rendered, halo_id=None, files=[("Plan „A“.pdf", data)])
    sent = await core.halo.encoded_in_slices([payload])

    b64 = base64.b64encode(data).decode()
    assert not [text for text in scanned if b64 in text]
    attachment = {"filename": "Plan „A“.pdf", "data_base64": b64, "isimage": False}
    plain = {**rendered.payload, "attachments": [attachment]}
    assert bytes(sent) == httpx.Request("POST", "https://h", json=[plain]).read()
