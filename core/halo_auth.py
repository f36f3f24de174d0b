"""Halo's OAuth side: the application's token (client credentials, renewed before it expires,
the optional scopes dropped once the token endpoint refuses them) and the bearer request that
renews it once on a 401 (docs/hudu-and-halo.md#halo-auth). `HaloClient` builds on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from core.errors import HaloAuthError
from core.halo_facts import CUSTOMER_SCOPE, TOKEN_LIFETIME, has_scope
from core.halo_hints import CREDENTIALS_HINT, halo_hint
from core.ratelimit import Clock
from core.serviceclient import ServiceClient

RENEW_BEFORE = 60.0


class HaloAuthorized(ServiceClient):
    """A `ServiceClient` whose API calls carry Halo's bearer token."""

    token_url: str
    tenant: str
    scope: str
    optional_scopes: tuple[str, ...]
    """Asked for too, unless the token endpoint refuses them (then never again)."""
    refused_scopes: tuple[str, ...]
    """Optional scopes the token endpoint refused (`invalid_scope`)."""
    _client_id: str
    _client_secret: str
    _clock: Clock

    def _start_tokens(self) -> None:
        self.refused_scopes = ()
        self._token: str | None = None
        self._expires_at = 0.0
        self._granted: set[str] = set()
        self._token_lock = asyncio.Lock()

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The scopes of the current token (empty before the first one)."""
        return frozenset(self._granted)

    async def can_read_customers(self) -> bool:
        """Whether the token may list Halo's clients (fetches a token if there is none)."""
        await self._authorization()
        return has_scope(self._granted, CUSTOMER_SCOPE)

    async def _authorization(self, *, stale: str | None = None) -> str:
        """A valid `Authorization` value; renewed 60 s before expiry, or when `stale` (the value
        a 401 answered) is still the current one."""
        async with self._token_lock:
            current_ok = self._token is not None and self._clock() < self._expires_at - RENEW_BEFORE
            if not current_ok or (stale is not None and stale == self._token):
                await self._fetch_token()
            assert self._token is not None
            return self._token

    async def _fetch_token(self) -> None:
        response = await self._token_request(" ".join((self.scope, *self.optional_scopes)))
        if (
            self.optional_scopes
            and response.status_code == 400
            and "invalid_scope" in self.session.error_message(response).lower()
        ):
            # The application lacks an optional scope: ask again without, and from now on.
            self.refused_scopes = self.optional_scopes
            self.optional_scopes = ()
            response = await self._token_request(self.scope)
        path = response.request.url.path
        if response.status_code >= 400:
            message = self.session.error_message(response)
            raise HaloAuthError(
                message,
                status=response.status_code,
                hint=halo_hint(response.status_code, "POST", path, message) or CREDENTIALS_HINT,
                method="POST",
                path=path,
            )
        body = self.session.json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self.session.malformed(response, "the token answer has no access_token")
        self.session.add_secret(token)
        try:
            lifetime = float(body.get("expires_in") or TOKEN_LIFETIME)
        except (TypeError, ValueError):
            lifetime = TOKEN_LIFETIME
        token_type = body.get("token_type") or "Bearer"
        self._token = f"{token_type} {token}"
        self._expires_at = self._clock() + lifetime
        scope = body.get("scope")
        requested = " ".join((self.scope, *self.optional_scopes))
        self._granted = set((scope if isinstance(scope, str) else requested).split())

    async def _token_request(self, scope: str) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": scope,
        }
        params = {"tenant": self.tenant} if self.tenant else None
        return await self.session.send(
            "POST",
            self.token_url,
            params=params,
            form=form,
            idempotent=True,
            accept=(400, 401, 403),
        )

    async def check_credentials(self) -> set[str]:
        """Fetch a fresh token; the scopes granted (RFC 6749: the requested ones if unsaid)."""
        async with self._token_lock:
            await self._fetch_token()
        return set(self._granted)

    # ------------------------------------------------------------------ plumbing
    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One API call with the bearer token; a 401 renews the token and retries once."""
        authorization = await self._authorization()
        response = await self.session.send(
            method,
            path,
            params=params,
            json_body=json_body,
            files=files,
            headers={"Authorization": authorization},
            accept=(401, *accept),
        )
        if response.status_code != 401:
            return response
        authorization = await self._authorization(stale=authorization)
        return await self.session.send(
            method,
            path,
            params=params,
            json_body=json_body,
            files=files,
            headers={"Authorization": authorization},
            accept=accept,
        )
