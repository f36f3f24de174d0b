"""Typed errors. Every message is safe to show: no secret ever reaches one."""

from __future__ import annotations


class HhsyncError(Exception):
    """Base of every error hhsync raises on purpose. `str()` is one line for the user."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class ApiError(HhsyncError):
    """An HTTP call answered with an error status, or not at all."""

    service: str = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str = "",
        method: str = "",
        path: str = "",
        items: tuple[int, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.method = method
        self.path = path
        self.items = items  # positions in an array body that the error names ("[3].faqlists")

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        status = f"{self.status} " if self.status else ""
        return f"{self.service} {status}{self.message}{where}".strip()


class HuduError(ApiError):
    service = "Hudu"


class HaloError(ApiError):
    service = "Halo"


class AuthError(ApiError):
    """Credentials or scopes are wrong: retrying will not help (CLI exit status 2)."""


class HuduAuthError(AuthError, HuduError):
    pass


class HaloAuthError(AuthError, HaloError):
    pass


class UnreachableError(ApiError):
    """No answer at all: DNS, refused connection, TLS, or a timeout on a safe request."""


class HuduUnreachableError(UnreachableError, HuduError):
    pass


class HaloUnreachableError(UnreachableError, HaloError):
    pass


class WriteUncertainError(HaloError):
    """A Halo write may or may not have been applied (timeout or dropped connection).

    It is never retried blindly: the engine reconciles by marker lookup first.
    """


class MalformedResponseError(ApiError):
    """The service answered 2xx with something that is not the JSON the API documents."""


class TooLargeError(HhsyncError):
    """A download stopped once it passed the size its caller allows."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"more than {limit:,} bytes (stopped at {size:,})")
        self.size = size
        self.limit = limit


class StoreError(HhsyncError):
    """The mapping file cannot be opened, locked or read."""


class StoreLockedError(StoreError):
    def __init__(self, path: str, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{path} is in use by {who}",
            hint="stop the other hhsync (or hhsync-tui) first, or point HHSYNC_DB elsewhere",
        )
        self.pid = pid
