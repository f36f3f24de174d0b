"""`hhsync doctor`'s checks of what hhsync adapts to on the tenant, all read-only: the FAQ
lists, the last probe's verdicts and their age, each synced company's Halo customer, and how
images are kept (HHSYNC_IMAGES).

A check is `(ok, line)` where `ok` is True (✓), False (✗: something to fix) or None (!: worth
knowing, nothing broken).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from core.config import CustomerAccess, ImageMode, Settings
from core.customers import CustomerDirectory
from core.errors import ApiError
from core.faqlists import GROUP_LIST_NAME, GROUP_THIRD_PARTY_ID, find_faqlist
from core.folders import SCOPE_GROUP_PREFIX
from core.halo import HaloClient
from core.halo_hints import SCOPES_HINT
from core.halo_profile import HaloProfile, ProbeKind, Verdict
from core.models import HuduCompany

Check = tuple[bool | None, str]


async def check_faqlists(halo: HaloClient, settings: Settings) -> AsyncIterator[Check]:
    """The `Hudu` group list, looked for, never created (the probe or the first sync does)."""
    try:
        lists = await halo.list_faqlists()
    except ApiError as exc:
        hint = exc.hint or SCOPES_HINT
        yield False, f"Halo FAQ lists: {str(exc).removeprefix('Halo ')} — {hint}"
        return
    group = find_faqlist(
        lists, third_party_id=GROUP_THIRD_PARTY_ID, name=GROUP_LIST_NAME, group_id=None
    )
    if group is None:
        yield (
            None,
            f"FAQ group list {GROUP_LIST_NAME!r} is not in Halo yet: the first sync (or "
            "hhsync doctor --probe) creates it",
        )
        return
    yield True, f"found the FAQ group list {GROUP_LIST_NAME!r} in Halo (id {group.id})"
    if settings.hhsync_customer_access is CustomerAccess.OFF:
        return
    groups = {group.id} | {f.id for f in lists if f.third_party_id.startswith(SCOPE_GROUP_PREFIX)}
    shown = [f for f in lists if f.group_id in groups and not f.is_group and f.showforall]
    for faqlist in sorted(shown, key=lambda f: f.id):
        yield (
            None,
            f"FAQ list {faqlist.name!r} has 'Show for all users': Halo then ignores its "
            "articles' customer restrictions (Halo's Article Restrictions guide)",
        )


def probe_lines(profile: HaloProfile, now: datetime) -> list[Check]:
    """The last probe's verdicts and their age, one line per fact."""
    if profile.kind is ProbeKind.NEVER:
        return [
            (
                None,
                "Halo never probed: hhsync relies on inferred facts (tags, search, attachments, "
                "restrictions) — run hhsync doctor --probe once (it writes and removes one "
                "test article)",
            )
        ]
    when = f"{profile.probed_at[:10]}, {profile.age(now)}"
    lines: list[Check] = []
    if profile.kind is ProbeKind.READ_ONLY:
        lines.append(
            (
                None,
                f"Halo checked read-only by the first sync ({when}): run hhsync doctor --probe "
                "for the rest",
            )
        )
    else:
        lines.append((True, f"Halo probed ({when}): what hhsync adapts to"))
    for fact in profile.facts:
        ok = {Verdict.DEGRADED: False, Verdict.UNKNOWN: None}.get(fact.verdict, True)
        lines.append((ok, f"probe: {fact.line()}"))
    return lines


async def check_customers(
    halo: HaloClient, settings: Settings, companies: Iterable[HuduCompany]
) -> AsyncIterator[Check]:
    """How each synced company meets its Halo customer (HHSYNC_CUSTOMER_ACCESS), from a fresh
    listing of Halo's clients; the mapping file is not written."""
    access = settings.hhsync_customer_access
    if access is CustomerAccess.OFF:
        yield True, "HHSYNC_CUSTOMER_ACCESS=off: company articles are not restricted to customers"
        return
    directory = CustomerDirectory(halo, settings, lambda: None, lambda _: None, lambda: "")
    wanted = [c for c in companies if not c.archived]
    wanted = [c for c in wanted if settings.company_filter.includes(c.id, c.name)]
    await directory.refresh(wanted, full=True, persist=False)
    strict = access is CustomerAccess.STRICT
    if directory.problem:
        yield (False if strict else None), f"Halo customers: {directory.problem}"
        return
    matches = [directory.match(c) for c in sorted(wanted, key=lambda c: c.name.casefold())]
    matched = sum(m.matched for m in matches)
    yield (
        True,
        f"HHSYNC_CUSTOMER_ACCESS={access.value}: {matched} of {len(matches)} synced companies "
        f"have a Halo customer ({len(directory.clients)} Halo clients listed)",
    )
    if settings.hhsync_show_for_all_users:
        yield (
            None,
            "HHSYNC_SHOW_FOR_ALL_USERS=true: new FAQ lists show to all users, which makes Halo "
            "ignore the customer restrictions of their articles",
        )
    outcome = "its articles are not synced" if strict else "its articles sync unrestricted"
    for match in matches:
        if match.matched:
            yield True, f"customer: {match.company_name} → {match.describe()}"
        else:
            yield None, f"customer: {match.company_name}: {match.why_not} — {outcome}"


def images_line(settings: Settings, profile: HaloProfile, copied: int) -> Check:
    """HHSYNC_IMAGES, and what the probe says of Halo's image endpoint when images are copied."""
    if settings.hhsync_images is ImageMode.LINK:
        return True, (
            "HHSYNC_IMAGES=link: images stay in Hudu and Halo's copies link to them (Hudu's "
            "public photos need no login; HHSYNC_IMAGES=copy stores them in Halo)"
        )
    so_far = f"{copied} image(s) stored in Halo so far"
    if profile.image_upload is True:
        return True, (
            f"HHSYNC_IMAGES=copy: images are stored with Halo's image endpoint (probe of "
            f"{profile.probed_at[:10]}); {so_far}"
        )
    if profile.image_upload is False:
        return None, (
            f"HHSYNC_IMAGES=copy: Halo refused the probe's image upload ({profile.probed_at[:10]})"
            ": small images go inline in the article, larger ones stay linked to Hudu"
        )
    return None, (
        "HHSYNC_IMAGES=copy: Halo's image endpoint is not checked yet (the next sync tries it); "
        f"run `hhsync doctor --probe` to check it; {so_far}"
    )
