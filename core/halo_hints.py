"""Halo's errors explained: for each failure an admin can fix, the one-line fix.

`halo_hint` picks the hint from the status, the method and path, and Halo's message, and
gives one only for the error it explains: an error it does not know gets no hint (the row
then shows Halo's own message), never a guess that sends an admin to the wrong setting.
"""

from __future__ import annotations

from core.halo_facts import DEFAULT_SCOPE, MAX_ATTACHMENT_MB, RATE_LIMIT, WINDOW_SECONDS

CREDENTIALS_HINT = "check HALO_CLIENT_ID and HALO_CLIENT_SECRET (and HALO_TENANT for hosted Halo)"
SCOPES_HINT = (
    f"give the Halo API application the scopes {DEFAULT_SCOPE}, and its agent's role "
    "'Can create FAQ lists' and Knowledge Base access Read, Modify and Delete"
)
DELETE_HINT = (
    "Halo refused the delete: give the API agent's role Knowledge Base access Delete "
    "(until then hhsync archives the article instead)"
)
FAQ_HINT = (
    'in Halo (Configuration → Knowledge Base) enable "Allow Articles to be added to FAQ Lists" '
    "and the option to group FAQ lists"
)
DELETED_LIST_HINT = "the FAQ list was deleted in Halo: hhsync makes it again on the next pass"
AI_HINT = "turn off AI Article Duplication Detection in Halo (Configuration → AI)"
SIZE_HINT = f"Halo accepts attachments up to {MAX_ATTACHMENT_MB} MB per file"


def _too_large(status: int, message: str) -> bool:
    text = message.lower()
    return status == 413 or ("attachment" in text and ("too large" in text or " mb" in text))


def halo_hint(status: int | None, method: str, path: str, message: str) -> str:
    where = path.lower()
    if status is None:
        return "check HALO_BASE_URL and HALO_AUTH_URL, and the network (DNS, proxy, firewall)"
    if where.endswith("/token"):
        if status == 400 and "invalid_scope" in message.lower():
            return SCOPES_HINT
        if status in (400, 401, 403):
            return CREDENTIALS_HINT
        if status == 404:
            return "check HALO_AUTH_URL (usually https://<instance>/auth) and HALO_TENANT"
    if status == 401:
        return CREDENTIALS_HINT
    if status == 403:
        return DELETE_HINT if method == "DELETE" and "/kbarticle" in where else SCOPES_HINT
    if _too_large(status, message):
        return SIZE_HINT
    if "/kbarticle" in where and method == "POST":
        text = message.lower()
        if status == 400 and "faq list" in text and "does not exist" in text:
            return DELETED_LIST_HINT
        if status == 400 and "faq list" in text:
            return FAQ_HINT
        if status == 500:
            return AI_HINT
    if status == 404 and not where.rstrip("/").split("/")[-1].isdigit():
        return "check HALO_BASE_URL: it should be the address of your Halo instance"
    if status == 429:
        return (
            f"Halo allows {RATE_LIMIT} requests per rolling {WINDOW_SECONDS / 60:g} minutes: "
            "retry later"
        )
    if status in (502, 503, 504):
        return "Halo is overloaded or down: retry later"
    return ""
