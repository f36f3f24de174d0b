"""The dashboard's plain-Python parts, without a terminal: folding, pass requests, waits,
notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from core.events import (
    ArticleChanged,
    EngineLogged,
    PassCause,
    PassFinished,
    PassProgressed,
    PassStarted,
    RateLimitWaited,
    ServiceAttached,
    WritesFailed,
)
from core.models import Status
from tests.tui.fakes import FIXED, FakeEngine, make_record
from tui import notices
from tui.model import ArticleModel, fold
from tui.state import AttachedService, DashboardState, PassCommand, PassRequests

NOW = datetime(2026, 6, 30, 14, 0, 0)


def started(command_id: str = "", cause: PassCause = PassCause.SYNC) -> PassStarted:
    return PassStarted(full=False, started_at=FIXED, cause=cause, command_id=command_id)


def finished(*, created: int = 0, updated: int = 0, failed: int = 0) -> PassFinished:
    return PassFinished(False, FIXED, FIXED, created, updated, 0, 0, failed)


def stopped_by(error: str) -> PassFinished:
    return PassFinished(False, FIXED, FIXED, 0, 0, 0, 0, 0, error)


def test_fold_keeps_the_last_row_per_article_and_leaves_batch_summaries_out() -> None:
    failed = make_record(1, Status.FAILED, error="Halo 400")
    batch = fold(
        [
            started(),
            PassProgressed(1, 10, 1, 0),
            PassProgressed(5, 10, 4, 1),
            ArticleChanged(make_record(1, Status.PENDING)),
            ArticleChanged(failed),
            WritesFailed((1,), (failed.title,), "Halo 400"),
            EngineLogged("INFO", "hello"),
            RateLimitWaited("Halo", 3),
            RateLimitWaited("Halo", 9),
        ]
    )
    assert batch.articles == {1: failed}
    assert [type(e).__name__ for e in batch.timeline] == ["PassStarted", "PassProgressed"]
    assert batch.timeline[1] == PassProgressed(5, 10, 4, 1)
    assert batch.rate_wait == RateLimitWaited("Halo", 9)
    assert not any(isinstance(e, WritesFailed) for e in batch.journal)


def test_a_failure_is_new_once_per_attempt() -> None:
    model = ArticleModel()
    model.load([make_record(1, Status.FAILED, attempts=1), make_record(2)])
    again = make_record(1, Status.FAILED, attempts=1, last_attempt_at="later")
    retried = make_record(1, Status.FAILED, attempts=2)
    assert model.new_failures({1: again}) == {}
    assert model.new_failures({1: retried}) == {1: retried}
    assert model.new_failures({2: make_record(2, Status.FAILED)}).keys() == {2}


def test_a_pass_answers_the_request_whose_id_it_carries() -> None:
    requests = PassRequests()
    sync = requests.ask(PassCommand.SYNC)
    retry = requests.ask(PassCommand.RETRY, failed_before=3)
    assert sync.command_id != retry.command_id
    requests.started(started())  # a scheduled pass, while both wait
    assert requests.finished() is None
    requests.started(started(retry.command_id, PassCause.RETRY))
    assert requests.finished() == retry
    requests.failed(sync.command_id)  # the sync raised: no pass of its will come
    requests.started(started(sync.command_id))
    assert requests.finished() is None


def test_a_rate_limit_wait_counts_down_and_is_forgotten() -> None:
    state = DashboardState()
    state.rate_limited(RateLimitWaited("Halo", 30, "rate limit"), NOW)
    assert state.rate_wait_text(NOW + timedelta(seconds=10)) == "Halo rate limit 20s"
    assert state.rate_wait_text(NOW + timedelta(seconds=10), short=True) == "Halo 20s"
    assert state.rate_wait_text(NOW + timedelta(seconds=31)) == ""
    assert state.rate_wait is None


def test_pass_notices_speak_to_the_key_that_asked() -> None:
    requests = PassRequests()
    sync = requests.ask(PassCommand.SYNC)
    retry = requests.ask(PassCommand.RETRY, failed_before=4)
    assert notices.pass_finished(finished(), None, 0) is None  # a quiet scheduled pass
    assert notices.pass_finished(finished(), sync, 0) == notices.Notice(
        "Nothing to send: Halo is up to date", title="Sync finished"
    )
    partly = notices.pass_finished(finished(updated=3, failed=1), retry, 1)
    assert partly is not None and partly.message.startswith("3 of 4 fixed · 1 still failing")
    stopped = notices.pass_finished(stopped_by("boom"), sync, 0)
    assert stopped == notices.Notice("boom", title="Pass stopped", severity="error", timeout=10)


def test_a_scheduled_pass_that_restored_copies_says_so() -> None:
    restored = PassFinished(True, FIXED, FIXED, 0, 0, 40, 0, 0, restored=2)
    notice = notices.pass_finished(restored, None, 0)
    assert notice is not None and notice.message == "2 restored · 40 unchanged"


def test_a_lost_service_hands_the_running_pass_request_back() -> None:
    state = DashboardState()
    state.service_attached(ServiceAttached(4242, "1.4.0", "/tmp/s.sock"))
    sync = state.requests.ask(PassCommand.SYNC)
    state.pass_started(started(sync.command_id))
    state.service_lost()
    assert not state.service_answering
    assert state.requests.current is None
    state.pass_started(started(sync.command_id))  # the service, back, announces the same pass
    assert state.requests.finished() == sync


def test_the_header_says_where_the_engine_runs() -> None:
    engine = FakeEngine()
    state = DashboardState()
    embedded = state.header(engine, percent=None, now=NOW)
    assert (embedded.service_pid, embedded.service_lost) == (None, False)
    assert state.service_answering
    state.service_attached(ServiceAttached(4242, "1.4.0", "/tmp/s.sock"))
    state.service_lost()
    lost = state.header(engine, percent=None, now=NOW)
    assert (lost.service_pid, lost.service_lost) == (4242, True)


def test_the_farewell_says_what_happens_to_syncing() -> None:
    assert "hhsync run" in notices.farewell(None)
    service = AttachedService(4242, "1.4.0", "/tmp/s.sock")
    assert notices.farewell(service).endswith("(pid 4242) keeps syncing.")
    assert "not answering" in notices.farewell(replace(service, answering=False))
