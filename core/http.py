"""The request policy both API clients share: throttling, retries, and secret-free errors.

Every request goes through the service's `SlidingWindowLimiter`. Retries (tenacity):

- 429 on any method (the request was not applied): honour `Retry-After` (seconds or an
  HTTP-date); otherwise wait as the service prescribes (`ServiceSpec.rate_limit_wait`).
- 502/503/504 (and 500 on GET), timeouts and dropped connections on idempotent requests:
  exponential backoff with jitter, a few attempts, bounded total wait.
- A non-idempotent request (POST) that may have reached the server (read timeout, dropped
  connection, gateway error) is never retried: `WriteUncertainError` lets the engine reconcile
  by marker first. A connection that was never made is retried for every method.

Errors carry the status, a message from the body (read by `core.errorbody`), and a hint; never
headers or request bodies, and any known secret is redacted from whatever the server echoed.
The clients build on `ApiSession` through `core.serviceclient.ServiceClient`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState

from core.errorbody import HTML_ANSWER, items_named_in, looks_like_html, message_from_body
from core.errors import ApiError, MalformedResponseError, TooLargeError, WriteUncertainError
from core.logs import mask
from core.ratelimit import Clock, Sleep, SlidingWindowLimiter, WaitHook

log = logging.getLogger("hhsync.http")

HintFor = Callable[[int | None, str, str, str], str]
"""(status, method, path, message) → a hint the user can act on, or ""."""
RateLimitWait = Callable[[int, float, random.Random], float]
"""(attempt, wall-clock now, rng) → seconds to wait after a 429 without Retry-After."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
GATEWAY_STATUSES = frozenset({502, 503, 504})
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_RETRY_AFTER = 900.0
MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class EncodedJson:
    """A JSON body encoded already (a large one, a piece at a time: core.halo). Not a bytes
    subclass: the request and the transport share `data` rather than copy it."""

    data: bytes

    def __bytes__(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What differs between Hudu and Halo in how requests fail and are retried."""

    name: str
    error: type[ApiError]
    auth_error: type[ApiError]
    unreachable_error: type[ApiError]
    url_variable: str
    hint_for: HintFor
    rate_limit_wait: RateLimitWait
    max_requests: int  # the client-side sliding window, shared by every call to the host
    window_seconds: float
    max_attempts: int = 4
    rate_limit_attempts: int = 4
    max_total_wait: float = 900.0
    backoff_initial: float = 1.0
    backoff_max: float = 30.0

    @property
    def html_hint(self) -> str:
        return f"the URL points at a web page, not the API: check {self.url_variable}"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _counted_retry(failures: Counter[bool], state: RetryCallState) -> bool:
    """Whether to try again (a retryable failure), counting each failure by kind first: tenacity
    asks this once per attempt, before the stop and the wait, which read the counts."""
    error = state.outcome.exception() if state.outcome else None
    if not isinstance(error, _Retryable):
        return False
    failures[isinstance(error, _RateLimited)] += 1
    return True


def unbound(response: httpx.Response) -> httpx.Response:
    """The answer, read and closed, without the stream httpx bound to it: the two form a
    reference cycle, so each answer and the request it holds (a batch is megabytes) waited
    for a full garbage collection to be freed (the engine's peak memory at 50,000 articles:
    292 MB bound, 212 MB unbound)."""
    response.stream = httpx.ByteStream(b"")
    return response


async def _read_at_most(
    http: httpx.AsyncClient, request: httpx.Request, max_bytes: int
) -> httpx.Response:
    """The answer with its body read up to `max_bytes`; past it (or a Content-Length saying
    so), `TooLargeError` and the connection is closed."""
    response = await http.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLargeError(int(declared), max_bytes)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise TooLargeError(len(body), max_bytes)
    finally:
        await response.aclose()
        unbound(response)
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _BODY_HEADERS]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=request
    )


_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
"""Headers about the body as sent, not as read (decoded, whole)."""


class _Retryable(Exception):
    pass


class _RateLimited(_Retryable):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


class _ServerBusy(_Retryable):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


class _NoAnswer(_Retryable):
    def __init__(self, error: httpx.TransportError) -> None:
        self.error = error


class ApiSession:
    """One `httpx.AsyncClient` for one service, with the shared policy around every request."""

    def __init__(
        self,
        spec: ServiceSpec,
        *,
        base_url: str,
        limiter: SlidingWindowLimiter,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        on_wait: WaitHook | None = None,
    ) -> None:
        self.spec = spec
        self.limiter = limiter
        self.on_wait = on_wait
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._secrets: set[str] = set()
        self.http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "hhsync/0.1"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ApiSession({self.spec.name}, {str(self.http.base_url)!r})"

    def add_secret(self, secret: str) -> None:
        """Redact this value from any message built from a server answer."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        return mask(text, self._secrets)

    async def aclose(self) -> None:
        await self.http.aclose()

    # ------------------------------------------------------------------ sending
    async def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
        idempotent: bool | None = None,
        throttle: bool = True,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send with limiter and retries. 2xx/3xx and statuses in `accept` are returned;
        anything else raises the service's `ApiError`. With `max_bytes`, the answer's body is
        read only that far: past it, `TooLargeError` (an untrusted download stays bounded)."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        path = self.http.build_request(method, url).url.path
        failures: Counter[bool] = Counter()  # by "was it a 429": each kind has its own budget
        retrying = AsyncRetrying(
            retry=functools.partial(_counted_retry, failures),
            stop=functools.partial(self._stop, failures),
            wait=functools.partial(self._wait, failures),
            sleep=self._pause,
            before_sleep=self._before_sleep(method, path),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._attempt(
                        method,
                        url,
                        path,
                        params=params,
                        json_body=json_body,
                        form=form,
                        files=files,
                        headers=headers,
                        accept=accept,
                        idempotent=idempotent,
                        throttle=throttle,
                        max_bytes=max_bytes,
                    )
        except (_RateLimited, _ServerBusy) as exc:
            raise self.error_from_response(exc.response, method, path) from None
        except _NoAnswer as exc:
            raise self.unreachable(exc.error, method, path) from None
        return response

    async def _attempt(
        self,
        method: str,
        url: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        headers: Mapping[str, str] | None,
        accept: Collection[int],
        idempotent: bool,
        throttle: bool,
        max_bytes: int | None,
    ) -> httpx.Response:
        if throttle:
            await self.limiter.acquire()
        content = None
        if isinstance(json_body, EncodedJson):
            content, json_body = json_body.data, None
            headers = {**(headers or {}), "Content-Type": "application/json"}
        try:
            request = self.http.build_request(
                method,
                url,
                params=params,
                json=json_body,
                content=content,
                data=form,
                files=files,
                headers=headers,
            )
            if max_bytes is None:
                response = unbound(await self.http.send(request))
            else:
                response = await _read_at_most(self.http, request, max_bytes)
        except NOT_SENT_ERRORS as exc:
            raise _NoAnswer(exc) from None
        except httpx.TransportError as exc:
            if idempotent:
                raise _NoAnswer(exc) from None
            raise self.write_uncertain(_describe(exc), method, path) from None
        status = response.status_code
        if status < 400 or status in accept:
            return response
        if status == 429:
            raise _RateLimited(response)
        if status in GATEWAY_STATUSES or (status == 500 and method == "GET"):
            if idempotent:
                raise _ServerBusy(response)
            if status in GATEWAY_STATUSES:
                raise self.write_uncertain(f"{status} {response.reason_phrase}", method, path)
        raise self.error_from_response(response, method, path)

    async def _pause(self, seconds: float) -> None:
        await self._sleep(seconds)

    def _stop(self, failures: Counter[bool], state: RetryCallState) -> bool:
        """Rate limits and other retryable failures are counted apart: a 503 after a few 429s
        still gets its own attempts."""
        error = state.outcome.exception() if state.outcome else None
        rate_limited = isinstance(error, _RateLimited)
        limit = self.spec.rate_limit_attempts if rate_limited else self.spec.max_attempts
        return failures[rate_limited] >= limit or state.idle_for >= self.spec.max_total_wait

    def _wait(self, failures: Counter[bool], state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        attempt = failures[isinstance(error, _RateLimited)]
        if isinstance(error, _RateLimited):
            now = self._wall_clock()
            delay = parse_retry_after(error.response.headers.get("retry-after"), now)
            if delay is None:
                delay = self.spec.rate_limit_wait(attempt, now, self._rng)
        else:
            base = min(self.spec.backoff_max, self.spec.backoff_initial * 2 ** (attempt - 1))
            delay = base / 2 + self._rng.uniform(0.0, base / 2)
        return max(0.0, min(delay, self.spec.max_total_wait - state.idle_for))

    def _before_sleep(self, method: str, path: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if isinstance(error, _RateLimited | _ServerBusy):
                why = f"{error.response.status_code} {error.response.reason_phrase}"
            elif isinstance(error, _NoAnswer):
                why = _describe(error.error)
            else:
                why = "error"
            log.info("%s %s %s: %s; retrying in %.1f s", self.spec.name, method, path, why, delay)
            if isinstance(error, _RateLimited) and self.on_wait is not None:
                self.on_wait(delay, "429 Too Many Requests")

        return before_sleep

    # ------------------------------------------------------------------ errors and bodies
    def error_message(self, response: httpx.Response) -> str:
        """The message of an error answer, secrets redacted, at most `MAX_MESSAGE` characters."""
        return self.redact(message_from_body(response))[:MAX_MESSAGE]

    def error_from_response(self, response: httpx.Response, method: str, path: str) -> ApiError:
        status = response.status_code
        message = self.error_message(response)
        if looks_like_html(response):
            hint = self.spec.html_hint
        else:
            hint = self.spec.hint_for(status, method, path, message)
        cls = self.spec.error
        if status == 401 or (status == 403 and method != "DELETE"):
            cls = self.spec.auth_error
        return cls(
            message,
            status=status,
            hint=hint,
            method=method,
            path=path,
            items=items_named_in(response),
        )

    def unreachable(self, error: httpx.TransportError, method: str, path: str) -> ApiError:
        host = error.request.url.host if _has_request(error) else ""
        message = f"no answer from {host or 'the server'}: {_describe(error)}"
        hint = self.spec.hint_for(None, method, path, message) or (
            f"check {self.spec.url_variable} and the network (DNS, proxy, firewall)"
        )
        return self.spec.unreachable_error(message, hint=hint, method=method, path=path)

    def write_uncertain(self, why: str, method: str, path: str) -> WriteUncertainError:
        status = int(why[:3]) if why[:3].isdigit() else None
        return WriteUncertainError(
            f"the write may or may not have been applied ({why})",
            status=status,
            hint="hhsync looks the article up by its marker before sending it again",
            method=method,
            path=path,
        )

    def malformed(self, response: httpx.Response, what: str) -> MalformedResponseError:
        request = response.request
        hint = self.spec.html_hint if looks_like_html(response) else ""
        error = MalformedResponseError(
            self.redact(what)[:MAX_MESSAGE],
            status=response.status_code,
            hint=hint,
            method=request.method,
            path=request.url.path,
        )
        error.service = self.spec.name
        return error

    def json(self, response: httpx.Response) -> Any:
        """The decoded JSON body of a 2xx answer; MalformedResponseError when it is not JSON."""
        if looks_like_html(response):
            raise self.malformed(response, HTML_ANSWER)
        try:
            return response.json()
        except ValueError:
            raise self.malformed(response, "the answer is not JSON") from None


def _has_request(error: httpx.TransportError) -> bool:
    try:
        error.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def _describe(error: httpx.TransportError) -> str:
    """A short, secret-free description of a transport error (no URL query, no headers)."""
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "could not connect"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the connection was dropped before an answer"
    return f"connection error ({type(error).__name__})"
