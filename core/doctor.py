"""`hhsync doctor`: each check says what it found and, when it fails, what to fix.

`run_checks` yields `(ok, line)` pairs: ok True (✓), False (✗, to fix) or None (!, worth
knowing). A check that cannot run because an earlier one failed (no credentials check when the
host does not answer) is left out rather than failed again. No check raises: an unexpected
error becomes a failed line, never a traceback. Plain `doctor` only reads; the checks of what
hhsync adapts to on the tenant (FAQ lists, the probe's verdicts, customers) are in
`core.doctor_tenant`, the probe itself in `core.probe`.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core.alert_body import Alert, AlertKind, webhook_body
from core.config import Settings
from core.doctor_tenant import Check, check_customers, check_faqlists, images_line, probe_lines
from core.engine import Engine
from core.errors import ApiError, AuthError, HhsyncError, UnreachableError
from core.folders import describe_layout
from core.halo_facts import DEFAULT_SCOPE, KB_SCOPES, missing_scopes
from core.halo_profile import META_KEY, HaloProfile, Verdict
from core.images import COUNT_KEY as IMAGES_COUNT_KEY
from core.models import HuduCompany, Status
from core.probe import ProbeReport
from core.remote import ControlClient, ServiceUnavailable, find_service
from core.socketpath import socket_path
from core.store import MappingStore
from core.webhook import Webhook, webhook_host
from core.wire import WireError

REQUIRED_SCOPES = frozenset(KB_SCOPES)

T = TypeVar("T")


@dataclass(slots=True)
class Findings:
    """What earlier checks learnt that later ones use."""

    companies: list[HuduCompany] | None = None
    halo_ready: bool = False
    """Halo answered and the token has the KB scopes."""


def _detail(exc: BaseException, *, hint: bool = True) -> str:
    """The error without the service name the line already starts with, plus its hint."""
    if isinstance(exc, ApiError):
        text = str(exc).removeprefix(f"{exc.service} ")
    elif isinstance(exc, HhsyncError):
        text = str(exc)
    else:
        text = f"unexpected {type(exc).__name__}: {exc}"
    fix = getattr(exc, "hint", "") if hint else ""
    return text + (f" — {fix}" if fix else "")


def _scopes_line(missing: Iterable[str], detail: str) -> str:
    return (
        f"Halo token lacks scope(s) {' '.join(sorted(missing))} ({detail}) — add "
        f"{' and '.join(KB_SCOPES)} to the Halo API application, set "
        f"HALO_SCOPE='{DEFAULT_SCOPE}', and give its agent's role 'Can create FAQ lists' and "
        "Knowledge Base access Read, Modify and Delete"
    )


def _refused_scopes(exc: ApiError, requested: str) -> frozenset[str] | None:
    """The required scopes an `invalid_scope` refusal is about (those it names, else all the
    required ones not requested, else all required); None when it is not about scopes."""
    if "invalid_scope" not in exc.message.lower():
        return None
    named = frozenset(s for s in REQUIRED_SCOPES if s in exc.message)
    return named or (REQUIRED_SCOPES - frozenset(requested.split())) or REQUIRED_SCOPES


async def _first_contact(
    service: str, url: str, call: Awaitable[T], credentials: str
) -> tuple[T | None, list[Check]]:
    """The first request to a service: its answer, or the checks that say why there is none."""
    try:
        return await call, []
    except UnreachableError as exc:
        return None, [(False, f"{service} unreachable at {url}: {_detail(exc)}")]
    except AuthError as exc:
        return None, [
            (True, f"{service} reachable at {url}"),
            (False, f"{service} {credentials} refused: {_detail(exc)}"),
        ]
    except Exception as exc:
        return None, [(False, f"{service} at {url}: {_detail(exc)}")]


async def check_hudu(engine: Engine, found: Findings) -> AsyncIterator[Check]:
    url = engine.settings.hudu_base_url
    info, failed = await _first_contact("Hudu", url, engine.hudu.api_info(), "API key")
    if info is None:
        for check in failed:
            yield check
        return
    yield True, f"Hudu reachable at {url} (version {info.get('version', '?')})"
    try:
        companies = await engine.hudu.list_companies()
    except Exception as exc:
        yield False, f"Hudu API key: {_detail(exc)}"
        return
    found.companies = companies
    yield True, f"Hudu API key accepted ({len(companies)} companies visible)"
    unknown = engine.settings.company_filter.unmatched((c.id, c.name) for c in companies)
    if unknown:
        yield (
            False,
            (
                f"HHSYNC_COMPANIES names no Hudu company: {', '.join(unknown)} — "
                "check the spelling (names are matched whole, case ignored) or use the company id"
            ),
        )


async def check_halo(engine: Engine, found: Findings) -> AsyncIterator[Check]:
    settings = engine.settings
    url = settings.halo_base_url
    info, failed = await _first_contact("Halo", url, engine.halo.authinfo(), "client credentials")
    if info is None:
        for check in failed:
            yield check
        return
    yield True, f"Halo reachable at {url}"

    try:
        granted = await engine.halo.check_credentials()
    except UnreachableError as exc:
        token_url = engine.halo.token_url
        yield False, f"Halo authorisation server unreachable at {token_url}: {_detail(exc)}"
        return
    except ApiError as exc:
        refused = _refused_scopes(exc, settings.halo_scope)
        if refused is None:
            yield False, f"Halo client credentials refused: {_detail(exc)}"
        else:
            yield False, _scopes_line(refused, _detail(exc, hint=False))
        return
    except Exception as exc:
        yield False, f"Halo client credentials: {_detail(exc)}"
        return
    yield True, "Halo client credentials accepted"
    missing = missing_scopes(granted)
    if missing:
        yield False, _scopes_line(missing, f"granted: {' '.join(sorted(granted)) or 'none'}")
        return
    yield True, f"Halo scopes include {' and '.join(KB_SCOPES)}"
    found.halo_ready = True


async def check_tenant(engine: Engine, found: Findings) -> AsyncIterator[Check]:
    """FAQ lists and customers, read-only (`core.doctor_tenant`)."""
    try:
        async for check in check_faqlists(engine.halo, engine.settings):
            yield check
        if found.companies is not None:
            async for check in check_customers(engine.halo, engine.settings, found.companies):
                yield check
    except Exception as exc:
        yield False, f"Halo: {_detail(exc)}"


def check_mapping(engine: Engine) -> Check:
    path = engine.settings.hhsync_db
    try:
        store = MappingStore.read_only(path)
        count = len(store.records())
    except Exception as exc:
        label = "mapping file" if str(path) in str(exc) else f"mapping file {path}"
        return False, f"{label}: {_detail(exc)}"
    if not path.exists():
        return True, f"mapping file {path} will be created by the first sync"
    return True, f"mapping file readable ({count} articles mapped)"


async def check_service(socket: Path) -> Check:
    """Whether `hhsync run` serves this mapping file: its pid, version and last pass."""
    client = ControlClient(socket)
    try:
        info = await client.hello()
        status = await client.status()
    except (ServiceUnavailable, WireError):
        return True, f"no hhsync service runs for this mapping file (socket {socket})"
    except HhsyncError as exc:  # another protocol version answers
        return False, f"service on {socket}: {exc}"
    finally:
        await client.aclose()
    last = status.get("last_pass") or {}
    when = f"last pass finished {last['finished_at']}" if last.get("finished_at") else "no pass yet"
    paused = ", paused" if status.get("paused") else ""
    return True, (
        f"service runs: pid {info.pid}, hhsync {info.version}, socket {socket}; {when}{paused}"
    )


async def check_alerts(settings: Settings, engine: Engine, *, send_test: bool) -> Check:
    """Whether alerts are on (the URL masked); with `send_test`, one test message and its fate."""
    secret = settings.hhsync_alert_url
    if secret is None:
        if send_test:
            return False, (
                "alert test: HHSYNC_ALERT_URL is not set — set it to the URL of a Teams workflow "
                "or Slack incoming webhook"
            )
        return None, "alerts off (HHSYNC_ALERT_URL is not set)"
    url = secret.get_secret_value()
    where = f"the webhook at {webhook_host(url)} (URL masked)"
    if not send_test:
        return True, f"alerts go to {where}; hhsync doctor --alert-test sends a test message"
    webhook = Webhook(url, retry_waits=())
    try:
        alert = Alert(AlertKind.TEST, engine.clock(), socket.gethostname(), engine_counts(engine))
        delivery = await webhook.post(webhook_body(alert))
    finally:
        await webhook.aclose()
    if delivery.ok:
        return True, f"test alert delivered to {where}: {delivery.detail}"
    return False, (
        f"test alert not delivered to {where}: {delivery.detail} — check HHSYNC_ALERT_URL "
        "(the whole URL the webhook's page gives) and that this host may reach it"
    )


def engine_counts(engine: Engine) -> dict[str, int]:
    """The mapping file's counts by status, read-only (doctor does not take the file)."""
    try:
        records = MappingStore.read_only(engine.settings.hhsync_db).records().values()
    except HhsyncError:
        return {}
    return {s.value: sum(1 for r in records if r.status is s) for s in Status}


def stored_profile(engine: Engine) -> HaloProfile:
    """The last probe's verdicts, from the mapping file (read-only, no lock needed)."""
    try:
        return HaloProfile.from_meta(
            MappingStore.read_only(engine.settings.hhsync_db).meta(META_KEY)
        )
    except HhsyncError:
        return HaloProfile()


def stored_images(engine: Engine) -> int:
    """How many images hhsync stored in Halo (the mapping file's content-addressed copies)."""
    try:
        count = MappingStore.read_only(engine.settings.hhsync_db).meta(IMAGES_COUNT_KEY)
    except HhsyncError:
        return 0
    return count if isinstance(count, int) else 0


async def run_checks(
    engine: Engine, *, probe_verdicts: bool = True, alert_test: bool = False
) -> AsyncIterator[Check]:
    """Every read-only check; with `probe_verdicts`, the last probe's lines too; with
    `alert_test`, a test alert."""
    found = Findings()
    yield await check_service(socket_path(engine.settings.hhsync_db, engine.settings.hhsync_socket))
    async for check in check_hudu(engine, found):
        yield check
    async for check in check_halo(engine, found):
        yield check
    if found.halo_ready:
        async for check in check_tenant(engine, found):
            yield check
    if probe_verdicts:
        for check in probe_lines(stored_profile(engine), engine.clock()):
            yield check
    yield images_line(engine.settings, stored_profile(engine), stored_images(engine))
    yield await check_alerts(engine.settings, engine, send_test=alert_test)
    yield True, describe_layout(engine.settings.hhsync_folders)
    yield check_mapping(engine)


Show = Callable[[bool | None, str], None]


async def run_doctor(
    engine: Engine, show: Show, *, probe: bool, alert_test: bool = False
) -> tuple[int, ProbeReport | None]:
    """Every check, shown as it comes; with `probe`, then the probe (which takes the mapping
    file: not while the service or a dashboard holds it). Returns the exit status (0 fine,
    1 the tenant degrades crash recovery, 2 something to fix) and the probe's report."""
    problems = 0
    async for ok, line in run_checks(engine, probe_verdicts=not probe, alert_test=alert_test):
        show(ok, line)
        problems += ok is False
    if not probe:
        return (2 if problems else 0), None
    if problems:
        show(False, "probe not run: fix what is marked ✗ above first")
        return 2, None
    socket = socket_path(engine.settings.hhsync_db, engine.settings.hhsync_socket)
    service = await find_service(socket)
    if service is not None:
        show(
            False,
            f"probe not run: the hhsync service (pid {service.pid}) holds the mapping file — "
            "stop it (systemctl stop hhsync), run hhsync doctor --probe, then start it again",
        )
        return 2, None
    try:
        await engine.open()
        report = await engine.probe()
    except HhsyncError as exc:
        show(False, f"probe: {_detail(exc)}")
        return 2, None
    if report.leftovers_removed:
        show(None, f"removed {report.leftovers_removed} article(s) left by an interrupted probe")
    for note in report.notes:
        show(True, note)
    show(True, f"probe article {report.article_id} written, read back and removed")
    for fact in report.profile.facts:
        ok = {Verdict.DEGRADED: False, Verdict.UNKNOWN: None}.get(fact.verdict, True)
        show(ok, fact.report_line())
    degraded = any(f.verdict is Verdict.DEGRADED for f in report.profile.facts)
    return (1 if degraded else 0), report
