"""`hhsync doctor`: each check says what it found and, when it fails, what to fix."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core.engine import GROUP_LIST_NAME, GROUP_THIRD_PARTY_ID, Engine
from core.errors import ApiError, HhsyncError
from core.store import MappingStore

REQUIRED_SCOPES = frozenset({"read:kb", "edit:kb"})


def _failure(what: str, exc: HhsyncError) -> str:
    return f"{what}: {exc}" + (f" — {exc.hint}" if exc.hint else "")


async def run_checks(engine: Engine) -> AsyncIterator[tuple[bool, str]]:
    settings = engine.settings
    try:
        info = await engine.hudu.api_info()
        yield (
            True,
            f"Hudu reachable at {settings.hudu_base_url} (version {info.get('version', '?')})",
        )
        companies = await engine.hudu.list_companies()
        yield True, f"Hudu API key accepted ({len(companies)} companies visible)"
    except ApiError as exc:
        yield False, _failure("Hudu", exc)

    try:
        await engine.halo.authinfo()
        yield True, f"Halo reachable at {settings.halo_base_url}"
        granted = await engine.halo.check_credentials()
        yield True, "Halo client credentials accepted"
        missing = REQUIRED_SCOPES - granted if granted else set()
        if missing:
            yield (
                False,
                (
                    f"Halo token lacks scope(s) {', '.join(sorted(missing))} — add them to the API "
                    "application and set HALO_SCOPE='read:kb edit:kb'"
                ),
            )
        else:
            yield True, "Halo scopes include read:kb and edit:kb"
        lists = await engine.halo.list_faqlists()
        group = next(
            (
                f
                for f in lists
                if f.third_party_id == GROUP_THIRD_PARTY_ID or f.name == GROUP_LIST_NAME
            ),
            None,
        )
        if group is None:
            group = await engine.halo.create_faqlist(
                GROUP_LIST_NAME,
                is_group=True,
                group_id=None,
                showforall=settings.hhsync_show_for_all_users,
                third_party_id=GROUP_THIRD_PARTY_ID,
            )
            yield True, f"created the FAQ group list {GROUP_LIST_NAME!r} in Halo (id {group.id})"
        else:
            yield True, f"FAQ group list {GROUP_LIST_NAME!r} exists in Halo (id {group.id})"
    except ApiError as exc:
        yield False, _failure("Halo", exc)

    try:
        store = MappingStore.read_only(settings.hhsync_db)
        yield True, f"mapping file readable ({len(store.records())} articles mapped)"
    except HhsyncError as exc:
        yield False, _failure("mapping file", exc)
