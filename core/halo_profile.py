"""What hhsync knows of the user's Halo tenant, from `hhsync doctor --probe` (or the read-only
check a first sync runs), and what it does about it.

Several facts hhsync relies on are inferred, not seen on a tenant (docs/hudu-and-halo.md#to-probe).
The probe writes one article and reads it back; each fact becomes a `ProbeFact` (expected,
seen, verdict, what hhsync does), and the choices they imply form a `HaloProfile`. The profile
is kept in the mapping file (meta `halo_probe`, with its date) and the engine adapts to it:
which body field(s) and which tag path it writes, how it looks copies up after a crash, how it
sends files, whether it tries DELETE, the article URL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

META_KEY = "halo_probe"

TagPath = Literal["tag_string", "tags"]
BODY_FIELDS = ("description", "description_html")


class Verdict(StrEnum):
    AS_EXPECTED = "as expected"
    ADAPTED = "differs: hhsync adapts"
    DEGRADED = "differs: hhsync works around it, less safely"
    UNKNOWN = "not checked"


class ProbeKind(StrEnum):
    NEVER = ""
    READ_ONLY = "read-only"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class ProbeFact:
    """One line of the probe's report."""

    key: str
    expected: str
    seen: str
    verdict: Verdict
    action: str
    """What hhsync does about it."""

    def line(self) -> str:
        """For `hhsync doctor`, which shows the stored verdicts."""
        return f"{self.key}: {self.verdict.value}; seen {self.seen} — {self.action}"

    def report_line(self) -> str:
        """For the probe's own report: expected, seen, verdict, what hhsync does."""
        return (
            f"{self.key}: expected {self.expected}; seen {self.seen}; {self.verdict.value} "
            f"→ {self.action}"
        )

    def as_json(self) -> dict[str, str]:
        return {
            "fact": self.key,
            "expected": self.expected,
            "seen": self.seen,
            "verdict": self.verdict.name.lower(),
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class HaloProfile:
    """The choices the engine makes for this tenant. The defaults are what hhsync did before
    any probe: every inferred fact assumed (docs/hudu-and-halo.md#to-probe)."""

    kind: ProbeKind = ProbeKind.NEVER
    probed_at: str = ""
    facts: tuple[ProbeFact, ...] = ()
    body_fields: tuple[str, ...] = BODY_FIELDS
    tag_path: TagPath = "tag_string"
    marker_lookup: bool = True
    """Search finds an article by its marker tag (False only once the probe saw it fail)."""
    bulk_lookup: bool = True
    """One search for the marker prefix finds every marked article."""
    name_lookup: bool = False
    """Search finds an article by its name within its FAQ list (checked when the marker
    lookup fails: crash recovery's fallback)."""
    attach_in_post: bool = True
    client_access: bool | None = None
    """Halo keeps `kbentryclientaccess` (None: not checked)."""
    url_template: str = ""
    """The article URL read from `link` ("{id}" for the id); "" keeps the inferred one."""
    delete_refused: bool = False
    faqlist_third_party_id: bool | None = None
    image_upload: bool | None = None
    """Halo's image endpoint stores an image sent without a ticket (None: not checked)."""

    @property
    def crash_recovery_degraded(self) -> bool:
        """No marker lookup works: a create whose answer was lost cannot be found by marker."""
        return not self.marker_lookup

    def notice(self) -> str:
        """One line for the header and every start ("" when there is nothing to say)."""
        if not self.crash_recovery_degraded:
            return ""
        fallback = (
            "copies are looked up by name in their FAQ list"
            if self.name_lookup
            else "a create whose answer is lost may be made twice"
        )
        return (
            f"crash recovery degraded: Halo's search does not find articles by their marker tag "
            f"(probe of {self.probed_at[:10]}); new articles go one per request and {fallback}"
        )

    def files_note(self) -> str:
        """Why a file is linked rather than attached when the tenant drops attachments."""
        return f"Halo drops files sent with an article (probe of {self.probed_at[:10]})"

    def age(self, now: datetime) -> str:
        """How long ago the probe ran, in words ("" when never)."""
        if not self.probed_at:
            return ""
        seconds = max(0.0, (now - datetime.fromisoformat(self.probed_at)).total_seconds())
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds >= size:
                count = int(seconds // size)
                return f"{count} {unit}{'s' if count != 1 else ''} ago"
        return "just now"

    # ------------------------------------------------------------ the mapping file
    def to_meta(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["facts"] = [f.as_json() for f in self.facts]
        values["kind"] = self.kind.value
        return values

    @classmethod
    def from_meta(cls, raw: object) -> HaloProfile:
        """The stored profile; anything unreadable (an older or damaged entry) reads as never
        probed, which is what hhsync assumed before."""
        if not isinstance(raw, Mapping):
            return cls()
        try:
            facts = tuple(
                ProbeFact(
                    str(f["fact"]),
                    str(f["expected"]),
                    str(f["seen"]),
                    Verdict[str(f["verdict"]).upper()],
                    str(f["action"]),
                )
                for f in raw.get("facts") or ()
            )
            body = tuple(str(b) for b in raw.get("body_fields") or BODY_FIELDS)
            tag_path: TagPath = "tags" if raw.get("tag_path") == "tags" else "tag_string"
            access = raw.get("client_access")
            third_party = raw.get("faqlist_third_party_id")
            image = raw.get("image_upload")
            return cls(
                kind=ProbeKind(str(raw.get("kind") or "")),
                probed_at=str(raw.get("probed_at") or ""),
                facts=facts,
                body_fields=tuple(b for b in body if b in BODY_FIELDS) or BODY_FIELDS,
                tag_path=tag_path,
                marker_lookup=bool(raw.get("marker_lookup", True)),
                bulk_lookup=bool(raw.get("bulk_lookup", True)),
                name_lookup=bool(raw.get("name_lookup", False)),
                attach_in_post=bool(raw.get("attach_in_post", True)),
                client_access=None if access is None else bool(access),
                url_template=str(raw.get("url_template") or ""),
                delete_refused=bool(raw.get("delete_refused", False)),
                faqlist_third_party_id=None if third_party is None else bool(third_party),
                image_upload=None if image is None else bool(image),
            )
        except (KeyError, TypeError, ValueError):
            return cls()
