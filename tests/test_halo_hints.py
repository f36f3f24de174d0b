"""Each Halo hint is shown for the error it explains, and not for one it does not."""

from __future__ import annotations

import pytest

from core.emulators.halo import AI_DUPLICATE_MESSAGE, FAQ_GROUP_MISCONFIGURED, FAQ_LISTS_DISABLED
from core.halo_hints import (
    AI_HINT,
    CREDENTIALS_HINT,
    DELETE_HINT,
    DELETED_LIST_HINT,
    FAQ_HINT,
    SCOPES_HINT,
    SIZE_HINT,
    halo_hint,
)

WORKFLOW = "[1].description: The article content was refused by a workflow rule."
KB = "/api/KBArticle"

# (hint, the error it explains, an error that looks close but is another)
CASES = [
    (
        FAQ_HINT,
        (400, "POST", KB, f"[0].faqlists: {FAQ_LISTS_DISABLED}"),
        (400, "POST", KB, WORKFLOW),
    ),
    (
        FAQ_HINT,
        (400, "POST", KB, f"[3].faqlists: {FAQ_GROUP_MISCONFIGURED}"),
        (400, "POST", "/api/FAQLists", f"[3].faqlists: {FAQ_GROUP_MISCONFIGURED}"),
    ),
    (
        DELETED_LIST_HINT,
        (400, "POST", KB, "[2].faqlists: FAQ list 17 does not exist."),
        (400, "POST", KB, "[2].id: KBArticle 17 does not exist."),
    ),
    (
        AI_HINT,
        (500, "POST", KB, AI_DUPLICATE_MESSAGE),
        (500, "GET", KB, "An error occurred."),
    ),
    (
        DELETE_HINT,
        (403, "DELETE", "/api/KBArticle/12", "Access denied"),
        (403, "POST", KB, "Access denied"),
    ),
    (
        SCOPES_HINT,
        (403, "POST", KB, "Access denied"),
        (400, "POST", KB, "Access denied"),
    ),
    (
        SCOPES_HINT,
        (400, "POST", "/auth/token", '{"error": "invalid_scope"}'),
        (400, "POST", "/auth/token", '{"error": "invalid_client"}'),
    ),
    (
        CREDENTIALS_HINT,
        (401, "GET", "/api/FAQLists", "Unauthorized"),
        (404, "GET", "/api/FAQLists/3", "Not found"),
    ),
    (
        SIZE_HINT,
        (400, "POST", KB, "[0].attachments: the attachment is too large (31 MB)."),
        (400, "POST", KB, "[0].description: the article content is too large."),
    ),
    (
        SIZE_HINT,
        (413, "POST", KB, "Request Entity Too Large"),
        (400, "POST", KB, WORKFLOW),
    ),
]


@pytest.mark.parametrize(("hint", "matching", "other"), CASES)
def test_a_hint_matches_its_error_and_not_another(
    hint: str, matching: tuple[int, str, str, str], other: tuple[int, str, str, str]
) -> None:
    assert halo_hint(*matching) == hint
    assert halo_hint(*other) != hint


def test_an_error_hhsync_does_not_know_gets_no_hint() -> None:
    assert halo_hint(400, "POST", KB, WORKFLOW) == ""
