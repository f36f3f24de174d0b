"""The probe's verdicts: what it saw on the tenant → one `ProbeFact` per fact, and the choices
of the `HaloProfile` the engine adapts to. Pure: `core.probe` does the requests.

Each fact is one of the inferred ones of docs/hudu-and-halo.md#to-probe; the `expected` text
is what hhsync assumed before any probe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from core.halo_json import edited_later
from core.halo_profile import BODY_FIELDS, HaloProfile, ProbeFact, ProbeKind, Verdict

NOT_WRITTEN = "needs a test write: run hhsync doctor --probe"


@dataclass(slots=True)
class Observations:
    """What the probe saw; None where it did not look."""

    body_back: dict[str, str] = field(default_factory=dict)
    """Each body field sent → what Halo answered ("" when empty or missing)."""
    sent_body: str = ""
    tag_string_kept: bool | None = None
    tags_kept: bool | None = None
    """Tried only when `tag_string` was dropped."""
    marker_found_after: float | None = None
    """Seconds until search found the article by its marker; None: never."""
    marker_tried: bool = False
    bulk_found: bool | None = None
    name_found: bool | None = None
    file_kept: bool | None = None
    client: str = ""
    """The Halo customer the article was restricted to ("" when none)."""
    client_kept: bool | None = None
    client_unchecked_why: str = ""
    link: str = ""
    url_template: str = ""
    delete_status: int | None = None
    """None: deleted; else the status of the refusal (403, 405)."""
    delete_tried: bool = False
    archive_kept_fields: bool | None = None
    faqlist_third_party_id: bool | None = None
    answered_edited: str = ""
    """`date_edited` in the answer to the probe's write ("" when it had none)."""
    listed_edited: str | None = None
    """`date_edited` of the probe article's list item; None when no listing showed it."""
    saved_edited: str = ""
    """`date_edited` read back after the probe saved its article again (archiving it)."""
    faqlist_groups_nest: bool | None = None
    """Checked with HHSYNC_FOLDERS=lists only (its list is in a group inside `Hudu`)."""
    hhsync_articles_seen: int = 0
    image_upload: bool | None = None
    """An image sent to `POST /Attachment/image` without a ticket came back by its link
    (None: not tried, HHSYNC_IMAGES=link)."""
    image_seen: str = ""
    """Read-only part: hhsync articles the marker-prefix search found."""


def full_profile(seen: Observations, probed_at: str) -> HaloProfile:
    """The profile a probe that wrote its article leads to."""
    profile = HaloProfile(kind=ProbeKind.FULL, probed_at=probed_at)
    facts: list[ProbeFact] = []
    for decide in (
        _body,
        _tag_path,
        _marker_lookup,
        _bulk_lookup,
        _attachments,
        _client_access,
        _link,
        _delete,
        _archive,
        _faqlist_third_party_id,
        _date_edited,
        _image_upload,
        _faqlist_groups_nest,
    ):
        fact, profile = decide(seen, profile)
        if fact is not None:
            facts.append(fact)
    return dataclasses.replace(profile, facts=tuple(facts))


def read_only_profile(seen: Observations, probed_at: str) -> HaloProfile:
    """What a first sync learns without writing: from hhsync's own articles already in Halo
    (a lost mapping file, an earlier install), if any."""
    profile = HaloProfile(kind=ProbeKind.READ_ONLY, probed_at=probed_at)
    count = seen.hhsync_articles_seen
    if count:
        where = f"{count} hhsync article(s) already in Halo"
        facts = [
            ProbeFact(
                "tag_string",
                "the marker tag written through tag_string is kept",
                f"kept on {where}",
                Verdict.AS_EXPECTED,
                "write tags through tag_string",
            ),
            ProbeFact(
                "bulk_lookup",
                "one search for the marker prefix finds every marked article",
                f"it found {where}",
                Verdict.AS_EXPECTED,
                "one search settles many lookups",
            ),
        ]
    else:
        facts = [
            ProbeFact(
                "tag_string",
                "the marker tag written through tag_string is kept",
                "no hhsync article in Halo yet",
                Verdict.UNKNOWN,
                NOT_WRITTEN,
            )
        ]
    link_fact, profile = _link(seen, profile)
    if link_fact is not None and (seen.link or seen.url_template):
        facts.append(link_fact)
    return dataclasses.replace(profile, facts=tuple(facts))


Decision = tuple[ProbeFact | None, HaloProfile]


def _body(seen: Observations, profile: HaloProfile) -> Decision:
    kept = tuple(f for f in BODY_FIELDS if seen.body_back.get(f, "").strip())
    changed = [f for f in kept if seen.body_back[f].strip() != seen.sent_body.strip()]
    expected = "the body comes back in description and description_html"
    note = f" ({' and '.join(changed)} changed by Halo)" if changed else ""
    if kept == BODY_FIELDS:
        return ProbeFact(
            "body", expected, f"both kept{note}", Verdict.AS_EXPECTED, "send the body in both"
        ), profile
    if kept:
        dropped = next(f for f in BODY_FIELDS if f not in kept)
        return ProbeFact(
            "body",
            expected,
            f"{kept[0]} kept{note}, {dropped} empty",
            Verdict.ADAPTED,
            f"send the body in {kept[0]} only",
        ), dataclasses.replace(profile, body_fields=kept)
    return ProbeFact(
        "body",
        expected,
        "neither kept",
        Verdict.DEGRADED,
        "keep sending both; check Halo's knowledge base editor settings (drafts, Markdown)",
    ), profile


def _tag_path(seen: Observations, profile: HaloProfile) -> Decision:
    expected = "the marker tag written through tag_string is kept"
    if seen.tag_string_kept:
        return ProbeFact(
            "tag_string", expected, "kept", Verdict.AS_EXPECTED, "write tags through tag_string"
        ), profile
    if seen.tags_kept:
        return ProbeFact(
            "tag_string",
            expected,
            "dropped; tags written as tags: [{text}] are kept",
            Verdict.ADAPTED,
            "write tags through tags: [{text}]",
        ), dataclasses.replace(profile, tag_path="tags")
    return ProbeFact(
        "tag_string",
        expected,
        "dropped, and through tags: [{text}] too",
        Verdict.DEGRADED,
        "no marker tag can be written: crash recovery degraded",
    ), dataclasses.replace(profile, marker_lookup=False, bulk_lookup=False)


def _marker_lookup(seen: Observations, profile: HaloProfile) -> Decision:
    expected = "search finds the article by its marker tag"
    if not profile.marker_lookup:  # no tag kept: nothing to look up
        return _name_fallback(seen, profile, expected, "no marker tag to search for")
    if seen.marker_found_after is not None:
        after = seen.marker_found_after
        when = "at once" if after < 0.5 else f"after {after:.0f} s"
        return ProbeFact(
            "marker_lookup",
            expected,
            f"found {when}",
            Verdict.AS_EXPECTED,
            "crash recovery looks copies up by marker",
        ), profile
    return _name_fallback(
        seen,
        dataclasses.replace(profile, marker_lookup=False, bulk_lookup=False),
        expected,
        "not found",
    )


def _name_fallback(seen: Observations, profile: HaloProfile, expected: str, what: str) -> Decision:
    if seen.name_found:
        return ProbeFact(
            "marker_lookup",
            expected,
            f"{what}; search by name within its FAQ list found it",
            Verdict.DEGRADED,
            "crash recovery degraded: new articles go one per request; copies are looked up "
            "by name in their FAQ list",
        ), dataclasses.replace(profile, name_lookup=True)
    return ProbeFact(
        "marker_lookup",
        expected,
        f"{what}; search by name did not find it either",
        Verdict.DEGRADED,
        "crash recovery degraded: new articles go one per request; a create whose answer is "
        "lost may be made twice",
    ), profile


def _bulk_lookup(seen: Observations, profile: HaloProfile) -> Decision:
    if not profile.marker_lookup:
        return None, dataclasses.replace(profile, bulk_lookup=False)
    expected = "one search for the marker prefix finds every marked article"
    if seen.bulk_found:
        return ProbeFact(
            "bulk_lookup", expected, "found", Verdict.AS_EXPECTED, "one search settles many lookups"
        ), profile
    return ProbeFact(
        "bulk_lookup",
        expected,
        "not found (search matches whole tags only)",
        Verdict.ADAPTED,
        "one search per article (crash recovery of many articles costs more requests)",
    ), dataclasses.replace(profile, bulk_lookup=False)


def _attachments(seen: Observations, profile: HaloProfile) -> Decision:
    expected = "a file sent inside the article POST is kept"
    if seen.file_kept is None:
        return None, profile
    if seen.file_kept:
        return ProbeFact(
            "attachments", expected, "kept", Verdict.AS_EXPECTED, "attach files in the article POST"
        ), profile
    return ProbeFact(
        "attachments",
        expected,
        "dropped",
        Verdict.ADAPTED,
        "link each file to Hudu in the article instead (listed as skipped, with the reason)",
    ), dataclasses.replace(profile, attach_in_post=False)


def _client_access(seen: Observations, profile: HaloProfile) -> Decision:
    expected = "kbentryclientaccess (restricted to one customer) is kept"
    if seen.client_kept is None:
        why = seen.client_unchecked_why or "no Halo customer to test with"
        return ProbeFact(
            "client_access",
            expected,
            f"not checked: {why}",
            Verdict.UNKNOWN,
            "restrict company articles as HHSYNC_CUSTOMER_ACCESS says (unverified)",
        ), profile
    if seen.client_kept:
        return ProbeFact(
            "client_access",
            expected,
            f"kept (restricted to {seen.client})",
            Verdict.AS_EXPECTED,
            "restrict company articles to their Halo customer",
        ), dataclasses.replace(profile, client_access=True)
    return ProbeFact(
        "client_access",
        expected,
        "dropped",
        Verdict.DEGRADED,
        "company articles cannot be restricted: matched syncs them unrestricted, strict "
        "does not sync them",
    ), dataclasses.replace(profile, client_access=False)


def _link(seen: Observations, profile: HaloProfile) -> Decision:
    expected = "link holds the article's URL"
    if seen.url_template:
        return ProbeFact(
            "link",
            expected,
            seen.link,
            Verdict.AS_EXPECTED,
            f"link to Halo copies as {seen.url_template}",
        ), dataclasses.replace(profile, url_template=seen.url_template)
    seen_text = f"{seen.link!r}, not the article's URL" if seen.link else "no link"
    return ProbeFact(
        "link",
        expected,
        seen_text,
        Verdict.UNKNOWN,
        "keep the inferred agent URL <instance>/kb?id=<id>",
    ), profile


def _delete(seen: Observations, profile: HaloProfile) -> Decision:
    if not seen.delete_tried:
        return None, profile
    expected = "DELETE is refused with 403 (Hudu's statement)"
    if seen.delete_status is None:
        return ProbeFact(
            "delete", expected, "allowed", Verdict.ADAPTED, "delete removed articles"
        ), profile
    return ProbeFact(
        "delete",
        expected,
        f"refused ({seen.delete_status})",
        Verdict.AS_EXPECTED,
        "archive removed articles without trying DELETE",
    ), dataclasses.replace(profile, delete_refused=True)


def _archive(seen: Observations, profile: HaloProfile) -> Decision:
    if seen.archive_kept_fields is None:
        return None, profile
    expected = "archiving ({id, inactive: true}) leaves the other fields alone"
    if seen.archive_kept_fields:
        return ProbeFact(
            "archive", expected, "name and body kept", Verdict.AS_EXPECTED, "archive as it does"
        ), profile
    return ProbeFact(
        "archive",
        expected,
        "name or body cleared",
        Verdict.ADAPTED,
        "nothing to change: an archived copy is no longer synced",
    ), profile


def _faqlist_third_party_id(seen: Observations, profile: HaloProfile) -> Decision:
    if seen.faqlist_third_party_id is None:
        return None, profile
    expected = "a FAQ list keeps its third_party_id"
    if seen.faqlist_third_party_id:
        return ProbeFact(
            "faqlist_id", expected, "kept", Verdict.AS_EXPECTED, "find lists by third-party id"
        ), dataclasses.replace(profile, faqlist_third_party_id=True)
    return ProbeFact(
        "faqlist_id",
        expected,
        "dropped",
        Verdict.ADAPTED,
        "find lists by name under the Hudu group (no duplicate either way)",
    ), dataclasses.replace(profile, faqlist_third_party_id=False)


def _date_edited(seen: Observations, profile: HaloProfile) -> Decision:
    """Drift repair tells an edit made in Halo by `date_edited` (docs/hudu-and-halo.md#halo-drift):
    a listing must show it as the write's answer did, and a later save must move it."""
    expected = "a listing shows date_edited as the write answered it, and a save moves it"
    listed, answered = seen.listed_edited, seen.answered_edited
    if listed is None:
        return ProbeFact(
            "date_edited",
            expected,
            "the probe article was not found in a listing",
            Verdict.UNKNOWN,
            "tell edits made in Halo by date_edited (unchecked)",
        ), profile
    if not listed:
        seen_text, verdict = "listings carry no date_edited", Verdict.ADAPTED
        action = "tell edits made in Halo by the listed name and body"
    elif not answered:
        seen_text, verdict = "the write's answer has no date_edited", Verdict.ADAPTED
        action = "take each copy's date_edited from the next full pass's listing"
    elif listed != answered:
        seen_text = f"listed {listed!r}, answered {answered!r}"
        verdict = Verdict.DEGRADED
        action = "copies may be restored on every full pass: unlink what Halo should keep"
    elif seen.saved_edited and not edited_later(seen.saved_edited, listed):
        seen_text, verdict = "a later save left date_edited as it was", Verdict.DEGRADED
        action = "edits made in Halo may go unseen until Hudu's article changes"
    else:
        seen_text, verdict = "listed as answered; a save moved it", Verdict.AS_EXPECTED
        action = "restore copies edited in Halo on full passes"
    return ProbeFact("date_edited", expected, seen_text, verdict, action), profile


def _image_upload(seen: Observations, profile: HaloProfile) -> Decision:
    if seen.image_upload is None:
        return None, profile
    expected = "POST /Attachment/image stores an image without a ticket and serves it by link"
    if seen.image_upload:
        return ProbeFact(
            "image_upload",
            expected,
            seen.image_seen,
            Verdict.AS_EXPECTED,
            "copy images into Halo with its image endpoint (HHSYNC_IMAGES=copy)",
        ), dataclasses.replace(profile, image_upload=True)
    return ProbeFact(
        "image_upload",
        expected,
        seen.image_seen,
        Verdict.ADAPTED,
        "inline small images in the article; larger ones stay linked to Hudu, listed in it",
    ), dataclasses.replace(profile, image_upload=False)


def _faqlist_groups_nest(seen: Observations, profile: HaloProfile) -> Decision:
    """Told only: the FAQ-list directory keeps this verdict itself (meta faqlist_groups_nest)."""
    if seen.faqlist_groups_nest is None:
        return None, profile
    expected = "a group FAQ list may be inside another group"
    if seen.faqlist_groups_nest:
        action = "each knowledge base's group is inside Hudu"
        return ProbeFact(
            "faqlist_nesting", expected, "accepted", Verdict.AS_EXPECTED, action
        ), profile
    action = "each knowledge base's group is at the top level, named 'Hudu: <name>'"
    return ProbeFact("faqlist_nesting", expected, "refused", Verdict.ADAPTED, action), profile
