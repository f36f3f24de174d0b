"""The Halo emulator's image endpoint (`/api/Attachment/image`): as strict as the rest of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import tiny_png

BASE = "http://halo.test"


@pytest.fixture
def state() -> HaloState:
    return HaloState(client_id="c", client_secret="s")


@pytest.fixture
async def client(state: HaloState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_halo_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


@pytest.fixture
def bearer(state: HaloState) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.issue_token()}"}


async def test_an_image_is_stored_and_served_by_its_link_to_anyone(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    png = tiny_png(1)
    stored = await client.post(
        "/api/Attachment/image", files={"file": ("a.png", png, "image/png")}, headers=bearer
    )
    assert stored.status_code == 200, stored.text
    link = stored.json()["link"]
    assert link.startswith("/api/attachment/image?token=")

    served = await client.get(link)  # no bearer token: the link is the right
    assert (served.status_code, served.content) == (200, png)
    assert served.headers["content-type"] == "image/png"
    assert (await client.get("/api/attachment/image?token=guess")).status_code == 404


@pytest.mark.parametrize(
    ("files", "data", "field", "message"),
    [
        ({"file": ("a.txt", b"hello", "text/plain")}, None, "file", "is not an image"),
        ({"file": ("", tiny_png(1), "image/png")}, None, "file", "file name is required"),
        ({"upload": ("a.png", tiny_png(1), "image/png")}, None, "upload", "not a field"),
        ({"file": ("a.png", tiny_png(1), "image/png")}, {"note": "x"}, "note", "not a field"),
    ],
)
async def test_a_form_asp_net_would_not_bind_is_refused(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    state: HaloState,
    files: dict[str, tuple[str, bytes, str]],
    data: dict[str, str] | None,
    field: str,
    message: str,
) -> None:
    refused = await client.post("/api/Attachment/image", files=files, data=data, headers=bearer)

    assert refused.status_code == 400
    assert message in refused.json()[field][0]
    assert state.images == {}


async def test_json_a_mistyped_parameter_and_an_oversized_image_are_refused(
    client: httpx.AsyncClient, bearer: dict[str, str], state: HaloState
) -> None:
    png = {"file": ("a.png", tiny_png(1), "image/png")}
    as_json = await client.post("/api/Attachment/image", json={"file": "x"}, headers=bearer)
    mistyped = await client.post(
        "/api/Attachment/image", params={"ticket_id": "three"}, files=png, headers=bearer
    )
    state.max_attachment_bytes = 10
    large = await client.post("/api/Attachment/image", files=png, headers=bearer)

    assert as_json.status_code == 400
    assert mistyped.status_code == 400 and "ticket_id" in mistyped.json()
    assert large.status_code == 400 and "cannot be uploaded" in large.text
    assert state.images == {}


async def test_the_endpoint_needs_a_token_with_edit_kb(
    client: httpx.AsyncClient, state: HaloState
) -> None:
    png = {"file": ("a.png", tiny_png(1), "image/png")}
    anonymous = await client.post("/api/Attachment/image", files=png)
    reader = {"Authorization": f"Bearer {state.issue_token(['read:kb'])}"}
    read_only = await client.post("/api/Attachment/image", files=png, headers=reader)

    assert (anonymous.status_code, read_only.status_code) == (401, 403)


async def test_a_tenant_needing_a_ticket_refuses_an_image_without_one(
    client: httpx.AsyncClient, bearer: dict[str, str], state: HaloState
) -> None:
    state.image_needs_ticket = True
    png = {"file": ("a.png", tiny_png(1), "image/png")}

    refused = await client.post("/api/Attachment/image", files=png, headers=bearer)
    taken = await client.post(
        "/api/Attachment/image", params={"ticket_id": 5}, files=png, headers=bearer
    )

    assert refused.status_code == 400 and "ticket_id" in refused.json()
    assert taken.status_code == 200
