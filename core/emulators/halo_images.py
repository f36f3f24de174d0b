"""Halo's editor image endpoint as the emulator serves it (halo-api.md, inline images).

`POST /api/Attachment/image` takes multipart/form-data with one `file` part and answers
`{"link": "/api/attachment/image?token=<token>"}`; `GET /api/Attachment/image?token=…` serves
the bytes to anyone holding the link (a capability URL: no bearer token). Whether the endpoint
takes an image without a `ticket_id` is unverified (fidelity §3): `HaloState.image_needs_ticket`
plays a tenant that refuses it. The form is checked the way ASP.NET binds it: only the spec's
`file` part, with a file name; the bytes must be an image (PNG, JPEG, GIF, WebP) within the
attachment limit, else a model-state 400.
"""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from email.policy import HTTP

ImageFile = tuple[str, bytes, str]
"""(file name, bytes, content type)"""

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str:
    """The media type the bytes are, by their signature ("" when not an image Halo shows)."""
    for signature, media in _SIGNATURES:
        if data.startswith(signature):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return ""


def read_image_form(
    content_type: str, body: bytes, limit: int
) -> tuple[ImageFile | None, dict[str, list[str]]]:
    """The uploaded image, or the model-state errors ASP.NET would answer."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        return None, {"": ["The request must be multipart/form-data."]}
    message = message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body, policy=HTTP
    )
    if not message.is_multipart():
        return None, {"": ["The multipart body could not be read."]}
    found: ImageFile | None = None
    errors: dict[str, list[str]] = {}
    for part in message.iter_parts():
        name = _form_name(part)
        if name != "file":
            errors.setdefault(name or "", []).append(f"'{name}' is not a field of this form.")
            continue
        data = part.get_payload(decode=True)
        filename = part.get_filename() or ""
        if not isinstance(data, bytes) or not data or not filename:
            errors.setdefault("file", []).append("A file with a file name is required.")
        elif len(data) > limit:
            errors.setdefault("file", []).append(
                f"The file '{filename}' is {len(data) / 1048576:.1f} MB: images larger than "
                f"{limit / 1048576:g} MB cannot be uploaded."
            )
        elif not image_type(data):
            errors.setdefault("file", []).append(f"The file '{filename}' is not an image.")
        elif found is not None:
            errors.setdefault("file", []).append("Only one file can be uploaded.")
        else:
            found = (filename, data, image_type(data))
    if found is None and not errors:
        errors["file"] = ["A file with a file name is required."]
    return (None, errors) if errors else (found, {})


def _form_name(part: Message) -> str:
    disposition = part.get("content-disposition")
    if disposition is None:
        return ""
    name = disposition.params.get("name") if hasattr(disposition, "params") else None
    return str(name or "")
