"""A chaos model of the engine: random Hudu changes, Halo faults, user actions and crashes, in
simulated time against the in-process emulators, with invariants after every step and after a
final clean pass.

Deterministic (hypothesis derandomized, no database). CI runs a small fixed budget; a longer
hunt: ``HHSYNC_CHAOS_EXAMPLES=500 python -m pytest tests/test_chaos.py``. A failing example
hypothesis shrinks becomes a regular regression test below.

A crash is a SIGKILL at an HTTP request of a pass (before Halo sees it, or after Halo applied
it but before the answer): the mapping files are copied as they are at that moment, the pass
is abandoned, and the engine is reopened from the copy, as a restarted process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core import simtime
from core.emulators.halo import HaloState, create_halo_app
from core.emulators.hudu import HuduState, create_hudu_app
from core.emulators.seed import seed_small
from core.emulators.server import DEMO_API_KEY, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from core.engine import Engine
from core.errors import HhsyncError
from core.events import ArticleChanged, ArticleRemoved, Event
from core.halo import HaloClient
from core.hudu import HuduClient
from core.models import Status
from core.store import MappingStore
from tests.conftest import HALO_URL, HUDU_URL, make_settings

EXAMPLES = int(os.environ.get("HHSYNC_CHAOS_EXAMPLES", "5"))
STEPS = int(os.environ.get("HHSYNC_CHAOS_STEPS", "8"))
MARKER = "hudu-article-"


class Crash(BaseException):
    """The process dies here (not an Exception: nothing in the engine may catch it)."""


class CrashingTransport(httpx.AsyncBaseTransport):
    """The emulator's transport; when armed, the `at`-th request of the pass kills the
    process: before it reaches Halo or Hudu, or just after it was applied. The mapping files
    are copied at that moment (what a SIGKILL leaves on disk)."""

    def __init__(self, app: Any, files: Callable[[], None], counter: list[int]) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.snapshot = files
        self.counter = counter  # shared by both services' transports: [requests left, after]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        left, after = self.counter
        if left == 1 and not after:
            self.counter[0] = 0
            self.snapshot()
            raise Crash
        if left > 0:
            self.counter[0] -= 1
        response = await self.inner.handle_async_request(request)
        if left == 1 and after:
            self.counter[0] = 0
            self.snapshot()
            raise Crash
        return response


class EngineChaos(RuleBasedStateMachine):
    """One Hudu, one Halo, one mapping file; the engine is reopened after every crash."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = simtime.VirtualTimeLoop()
        self.folder = Path(self.loop.run_until_complete(_tmp_dir()))
        self.db = self.folder / "hhsync.json"
        self.hudu = HuduState(api_key=DEMO_API_KEY, base_url=HUDU_URL, clock=self.loop.now)
        self.halo = HaloState(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            base_url=HALO_URL,
            clock=self.loop.wall,
        )
        self.seed = seed_small(self.hudu)
        self.crash_counter = [0, 0]
        self.events: dict[int, Status | None] = {}
        self.engine = self._open()
        self.crashes = 0

    # ---------------------------------------------------------------- plumbing
    def _open(self) -> Engine:
        settings = make_settings(self.db)
        files = self._copy_files
        hudu = HuduClient(
            HUDU_URL,
            DEMO_API_KEY,
            transport=CrashingTransport(create_hudu_app(self.hudu), files, self.crash_counter),
            clock=self.loop.time,
            wall_clock=self.loop.wall,
        )
        halo = HaloClient(
            HALO_URL,
            settings.halo_auth_url,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            transport=CrashingTransport(create_halo_app(self.halo), files, self.crash_counter),
            clock=self.loop.time,
            wall_clock=self.loop.wall,
        )
        engine = Engine(
            settings, store=MappingStore(self.db), hudu=hudu, halo=halo, clock=self.loop.now
        )
        engine.book.fsync.offload = simtime.inline
        self.run(engine.open())
        self.events = {r.hudu_id: r.status for r in engine.records()}
        engine.subscribe(self._seen)
        return engine

    def _seen(self, event: Event) -> None:
        if isinstance(event, ArticleChanged):
            self.events[event.record.hudu_id] = event.record.status
        elif isinstance(event, ArticleRemoved):
            self.events.pop(event.hudu_id, None)

    def _copy_files(self) -> None:
        crashed = self.folder / "crashed"
        shutil.rmtree(crashed, ignore_errors=True)
        crashed.mkdir()
        for path in self.folder.glob("hhsync.json*"):
            if path.is_file() and not path.name.endswith((".lock", ".pid")):
                shutil.copy2(path, crashed / path.name)

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    async def _quietly(self, work: Awaitable[Any]) -> None:
        with contextlib.suppress(HhsyncError):  # a failed pass is one the next one repairs
            await work

    def _ids(self) -> list[int]:
        return sorted(self.hudu.articles)

    def teardown(self) -> None:
        self.run(self.engine.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---------------------------------------------------------------- Hudu changes
    @rule(company=st.integers(0, 3), draft=st.sampled_from([False, True, None]))
    def create_article(self, company: int, draft: bool | None) -> None:
        companies = [None, *sorted(self.hudu.companies)]
        place = companies[company % len(companies)]
        self.hudu.add_article(f"Chaos {len(self.hudu.articles)}", "<p>new</p>", place, draft=draft)

    @rule(
        pick=st.integers(0, 10_000),
        change=st.sampled_from(["edit", "draft", "publish", "archive", "unarchive", "move"]),
    )
    def change_article(self, pick: int, change: str) -> None:
        ids = self._ids()
        if not ids:
            return
        article_id = ids[pick % len(ids)]
        choices: dict[str, dict[str, Any]] = {
            "edit": {"content": f"<p>edit {pick}</p>"},
            "draft": {"draft": True},
            "publish": {"draft": False},
            "archive": {"archived": True},
            "unarchive": {"archived": False},
            "move": {
                "company_id": [None, *sorted(self.hudu.companies)][pick % 4],
                "folder_id": None,
            },
        }
        self.hudu.update_article(article_id, **choices[change])

    @rule(pick=st.integers(0, 10_000))
    def delete_article(self, pick: int) -> None:
        ids = self._ids()
        if ids:
            self.hudu.delete_article(ids[pick % len(ids)])

    @rule(pick=st.integers(0, 10_000), remove=st.booleans())
    def change_files(self, pick: int, remove: bool) -> None:
        ids = self._ids()
        if not ids:
            return
        article_id = ids[pick % len(ids)]
        uploads = [u for u in self.hudu.uploads.values() if u.uploadable_id == article_id]
        if remove and uploads:
            del self.hudu.uploads[uploads[0].id]
        else:
            self.hudu.add_upload(article_id, f"notes-{pick}.txt", data=b"notes " * 50)
        self.hudu.update_article(article_id)

    # ---------------------------------------------------------------- Halo faults
    @rule(count=st.integers(1, 3), status=st.sampled_from([429, 500, 503]))
    def halo_fails(self, count: int, status: int) -> None:
        self.halo.switches.error_status = status
        self.halo.switches.fail_next = count

    @rule()
    def halo_drops_an_answer_after_commit(self) -> None:
        self.halo.drop_after_commit = 1

    @rule()
    def halo_token_expires(self) -> None:
        self.halo.expire_tokens()

    @rule(pick=st.integers(0, 10_000), change=st.sampled_from(["delete", "archive", "edit"]))
    def halo_copy_changed(self, pick: int, change: str = "delete") -> None:
        """An agent deletes, archives or edits a copy in Halo: the next full pass restores it."""
        marked = [i for i, a in self.halo.articles.items() if MARKER in a.get("tag_string", "")]
        if not marked:
            return
        halo_id = marked[pick % len(marked)]
        if change == "delete":
            self.halo.delete_in_halo(halo_id)
        elif change == "archive":
            self.halo.archive_in_halo(halo_id)
        else:
            self.halo.edit_in_halo(halo_id, description=f"<p>agent {pick}</p>")

    # ---------------------------------------------------------------- the engine
    @rule()
    def sync(self) -> None:
        self.run(self._quietly(self.engine.sync_now()))

    @rule()
    def full_sync(self) -> None:
        self.run(self._quietly(self.engine.sync_now(full=True)))

    @rule(at=st.integers(1, 40), after=st.booleans())
    def crash_during_a_pass(self, at: int, after: bool) -> None:
        """SIGKILL at the `at`-th request of a pass; restart from what is on disk."""
        self.crash_counter[:] = [at, int(after)]
        crashed = False
        try:
            self.run(self._quietly(self.engine.sync_now(full=at % 2 == 0)))
        except (Crash, BaseExceptionGroup):
            crashed = True
        self.crash_counter[:] = [0, 0]
        if not crashed:
            return  # the pass needed fewer requests
        self.crashes += 1
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.run(self.engine.close())
        for path in self.folder.glob("hhsync.json*"):
            if path.is_file() and not path.name.endswith((".lock", ".pid")):
                path.unlink()
        for path in (self.folder / "crashed").iterdir():
            shutil.copy2(path, self.folder / path.name)
        self.engine = self._open()

    @rule(pick=st.integers(0, 10_000))
    def resync(self, pick: int) -> None:
        ids = sorted(r.hudu_id for r in self.engine.records())
        if ids:
            self.run(self._quietly(self.engine.resync(ids[pick % len(ids)])))

    @rule(pick=st.integers(0, 10_000))
    def unlink(self, pick: int) -> None:
        ids = sorted(r.hudu_id for r in self.engine.records())
        if ids:
            self.run(self._quietly(self.engine.unlink(ids[pick % len(ids)])))

    @rule()
    def retry(self) -> None:
        self.run(self._quietly(self.engine.retry_failed()))

    @precondition(lambda self: self.engine.records())
    @rule()
    def reset(self) -> None:
        self.run(self.engine.reset())

    # ---------------------------------------------------------------- invariants
    @invariant()
    def the_mapping_loads_and_holds_what_the_engine_holds(self) -> None:
        rows = {r.hudu_id: r for r in self.engine.records()}
        on_disk = MappingStore.read_only(self.db).records()
        assert on_disk == rows
        assert all(isinstance(r.status, Status) for r in rows.values())
        assert sum(self.engine.counts().values()) == len(rows)

    @invariant()
    def the_events_say_what_the_rows_are(self) -> None:
        rows = {r.hudu_id: r.status for r in self.engine.records()}
        assert self.events == rows


def active_copies(halo: HaloState) -> dict[int, int]:
    counts: dict[int, int] = {}
    for article in halo.articles.values():
        if article.get("inactive"):
            continue
        for tag in article.get("tag_string", "").split(","):
            if tag.startswith(MARKER):
                hudu_id = int(tag.removeprefix(MARKER))
                counts[hudu_id] = counts.get(hudu_id, 0) + 1
    return counts


def check_after_a_clean_pass(machine: EngineChaos) -> None:
    """No faults left: retry what failed, then full passes; then exactly one active copy per
    published article the engine still syncs, none for the rest, no intent left."""
    machine.halo.switches.fail_next = 0
    machine.halo.drop_after_commit = 0
    engine = machine.engine
    machine.run(engine.retry_failed())
    machine.run(engine.sync_now(full=True))
    machine.run(engine.sync_now(full=True))
    rows = {r.hudu_id: r for r in engine.records()}
    copies = active_copies(machine.halo)
    for hudu_id, article in machine.hudu.articles.items():
        row = rows.get(hudu_id)
        if row is not None and row.unlinked:
            continue  # its copy is Halo's now
        published = not article.archived and article.draft is not True
        expected = 1 if published else 0
        assert copies.get(hudu_id, 0) == expected, (hudu_id, article, row)
    for hudu_id in set(copies) - set(machine.hudu.articles):
        row = rows.get(hudu_id)
        assert row is not None and row.unlinked, f"article {hudu_id} left Hudu but not Halo"
    assert not [r.hudu_id for r in rows.values() if r.intent]
    assert not [r for r in rows.values() if r.status is Status.FAILED]
    machine.the_mapping_loads_and_holds_what_the_engine_holds()
    machine.the_events_say_what_the_rows_are()


async def _tmp_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="hhsync-chaos-")


class ChaosWithFinalCheck(EngineChaos):
    def teardown(self) -> None:
        try:
            check_after_a_clean_pass(self)
        finally:
            super().teardown()


@pytest.mark.timeout(600)
def test_chaos() -> None:
    run_state_machine_as_test(
        ChaosWithFinalCheck,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


# ---------------------------------------------------------------- shrunk examples
def replay(steps: Callable[[EngineChaos], None]) -> None:
    machine = EngineChaos()
    try:
        steps(machine)
        machine.the_mapping_loads_and_holds_what_the_engine_holds()
        machine.the_events_say_what_the_rows_are()
        check_after_a_clean_pass(machine)
    finally:
        machine.teardown()


def test_a_copy_deleted_in_halo_comes_back_with_a_full_pass() -> None:
    def steps(machine: EngineChaos) -> None:
        machine.full_sync()
        machine.halo_copy_changed(pick=0)

    replay(steps)


@pytest.mark.parametrize("change", ["archive", "edit"])
def test_a_copy_archived_or_edited_in_halo_is_restored_with_a_full_pass(change: str) -> None:
    def steps(machine: EngineChaos) -> None:
        machine.full_sync()
        machine.halo_copy_changed(pick=1, change=change)
        machine.full_sync()
        edited = [a for a in machine.halo.articles.values() if "agent" in a["description"]]
        assert not edited

    replay(steps)


def test_a_crash_after_halo_applied_a_create_leaves_one_copy() -> None:
    def steps(machine: EngineChaos) -> None:
        machine.crash_during_a_pass(at=12, after=True)
        machine.crash_during_a_pass(at=3, after=False)
        assert machine.crashes == 2
        machine.sync()

    replay(steps)
