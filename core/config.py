"""Settings from the environment and `.env` (the environment wins), validated once at start-up."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import halo_facts, hudu_facts

T = TypeVar("T", bound=BaseSettings)

_HALO_EXAMPLE = "https://acme.halopsa.com"
EXAMPLES: dict[str, str] = {
    "HUDU_BASE_URL": "https://acme.huducloud.com",
    "HUDU_API_KEY": "your Hudu API key (Admin → API Keys)",
    "HALO_BASE_URL": _HALO_EXAMPLE,
    "HALO_AUTH_URL": halo_facts.default_auth_url(_HALO_EXAMPLE),
    "HALO_TENANT": "acme",
    "HALO_CLIENT_ID": "the client id of a Halo API application",
    "HALO_CLIENT_SECRET": "the client secret of that application",
    "HALO_SCOPE": halo_facts.DEFAULT_SCOPE,
    "HHSYNC_DB": "/var/lib/hhsync/hhsync.json",
    "HHSYNC_SYNC_CENTRAL": "true",
    "HHSYNC_COMPANIES": "all  (or none, or: Acme Corp,42)",
    "HHSYNC_SHOW_FOR_ALL_USERS": "false",
    "HHSYNC_INTERVAL": "300",
    "HHSYNC_BATCH_SIZE": "100",
    "HHSYNC_CUSTOMER_ACCESS": "matched  (or strict, or off)",
    "HHSYNC_CUSTOMER_MAP": "12=345,17=346  (Hudu company id=Halo client id)",
    "HHSYNC_ALERT_URL": "the URL of a Teams workflow or Slack incoming webhook",
    "HHSYNC_IMAGES": "link  (or copy)",
    "HHSYNC_FOLDERS": "flat  (or lists)",
}


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("hhsync", appauthor=False)) / "hhsync.json"


def state_dir() -> Path:
    """Where logs go: `$XDG_STATE_HOME/hhsync`."""
    return Path(platformdirs.user_state_dir("hhsync", appauthor=False))


class ConfigError(Exception):
    """A missing or malformed setting; `str()` is the one line shown to the user."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        example = EXAMPLES.get(variable, "")
        suffix = f" (example: {variable}={example})" if example else ""
        super().__init__(f"{variable}: {problem}{suffix}")


def _strip_slash(url: str) -> str:
    return url.strip().rstrip("/")


SOURCES = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    case_sensitive=False,
    hide_input_in_errors=True,
)


class CustomerAccess(StrEnum):
    """`HHSYNC_CUSTOMER_ACCESS`: who may see a company's articles in Halo's portal."""

    MATCHED = "matched"
    """Restricted to the company's Halo customer when one is found; else unrestricted."""
    STRICT = "strict"
    """Restricted to the company's Halo customer; without one, not synced."""
    OFF = "off"
    """Never restricted, as before this setting existed."""


class ImageMode(StrEnum):
    """`HHSYNC_IMAGES`: where an article's images live once it is in Halo."""

    LINK = "link"
    """Linked to Hudu (absolute Hudu URLs), as before this setting existed."""
    COPY = "copy"
    """Copied into Halo once each (content-addressed); the article no longer needs Hudu."""


class FolderLayout(StrEnum):
    """`HHSYNC_FOLDERS`: how Hudu's folders show in Halo's FAQ lists."""

    FLAT = "flat"
    """One FAQ list per knowledge base (Central or a company), as Hudu's own sync does."""
    LISTS = "lists"
    """One FAQ list per Hudu folder, named by its path, in a group per knowledge base."""


def parse_customer_map(raw: str) -> dict[int, int]:
    """`HHSYNC_CUSTOMER_MAP`: `hudu_company_id=halo_client_id` pairs separated by commas."""
    pairs: dict[int, int] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        company, equals, client = (x.strip() for x in part.partition("="))
        if not equals or not company.isdigit() or not client.isdigit():
            raise ValueError(f"{part!r} is not hudu_company_id=halo_client_id (two whole numbers)")
        if int(company) in pairs:
            raise ValueError(f"Hudu company {int(company)} is mapped twice")
        if int(client) == 0:
            raise ValueError(f"{part!r}: Halo client ids start at 1")
        pairs[int(company)] = int(client)
    return pairs


class StoreSettings(BaseSettings):
    """Just where the mapping file is: enough for `hhsync status`, which needs no credentials."""

    model_config = SOURCES

    hhsync_db: Path = Field(default_factory=default_db_path)
    hhsync_socket: Path | None = None
    """The service's control socket; by default a place derived from `hhsync_db`."""


class Settings(StoreSettings):
    """Every variable of the configuration (README's table, `.env.example`). Field names are the
    variable names in lower case."""

    hudu_base_url: str
    hudu_api_key: SecretStr
    halo_base_url: str
    halo_auth_url: str = ""
    halo_tenant: str = ""
    halo_client_id: str
    halo_client_secret: SecretStr
    halo_scope: str = halo_facts.DEFAULT_SCOPE
    hhsync_sync_central: bool = True
    hhsync_companies: str = "all"
    hhsync_show_for_all_users: bool = False
    hhsync_interval: int = Field(default=300, ge=10)
    hhsync_batch_size: int = Field(default=100, ge=1, le=500)
    hhsync_customer_access: CustomerAccess = CustomerAccess.MATCHED
    hhsync_customer_map: str = ""
    hhsync_alert_url: SecretStr | None = None
    """Where the service posts its alerts (a secret: the URL is the webhook's only key)."""
    hhsync_images: ImageMode = ImageMode.LINK
    hhsync_folders: FolderLayout = FolderLayout.FLAT

    @field_validator("hudu_base_url", "halo_base_url", "halo_auth_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = _strip_slash(value)
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError("must start with https:// (or http:// for a local test server)")
        if not parts.hostname:
            raise ValueError("has no host name")
        if parts.query or parts.fragment:
            raise ValueError("must be just the address, without ?query or #fragment")
        return value

    @field_validator("hhsync_alert_url")
    @classmethod
    def _alert_url(cls, value: SecretStr | None) -> SecretStr | None:
        url = "" if value is None else value.get_secret_value().strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be the webhook's whole https:// address")
        return SecretStr(url)

    @field_validator("hhsync_companies")
    @classmethod
    def _companies(cls, value: str) -> str:
        CompanyFilter.parse(value)
        return value

    @field_validator("hhsync_customer_map")
    @classmethod
    def _customer_map(cls, value: str) -> str:
        parse_customer_map(value)
        return value

    @field_validator("hhsync_customer_access", "hhsync_images", "hhsync_folders", mode="before")
    @classmethod
    def _access_in_any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("hudu_api_key", "halo_client_secret")
    @classmethod
    def _not_blank_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value

    @field_validator("halo_client_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty")
        return value.strip()

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        self.hudu_base_url = hudu_facts.instance_root(self.hudu_base_url)
        self.halo_base_url = halo_facts.instance_root(self.halo_base_url)
        if not self.halo_auth_url:
            self.halo_auth_url = halo_facts.default_auth_url(self.halo_base_url)
        return self

    @property
    def company_filter(self) -> CompanyFilter:
        return CompanyFilter.parse(self.hhsync_companies)

    @property
    def customer_map(self) -> dict[int, int]:
        """Hudu company id → Halo client id, as `HHSYNC_CUSTOMER_MAP` says."""
        return parse_customer_map(self.hhsync_customer_map)

    def secrets(self) -> list[str]:
        """The values that must never be printed, logged or stored."""
        alert_url = self.hhsync_alert_url
        return [
            self.hudu_api_key.get_secret_value(),
            self.halo_client_secret.get_secret_value(),
            *([alert_url.get_secret_value()] if alert_url is not None else []),
        ]


class CompanyFilter:
    """`HHSYNC_COMPANIES`: `all`, `none`, or a comma list of company names or ids."""

    def __init__(
        self, mode: str, names: frozenset[str] = frozenset(), ids: frozenset[int] = frozenset()
    ):
        self.mode = mode
        self.names = names
        self.ids = ids

    @classmethod
    def parse(cls, raw: str) -> CompanyFilter:
        text = raw.strip()
        if text.lower() in ("", "all", "*"):
            return cls("all")
        if text.lower() == "none":
            return cls("none")
        names: set[str] = set()
        ids: set[int] = set()
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            if part.lower() in ("all", "none", "*"):
                raise ValueError(f"{part!r} cannot be mixed with company names")
            if part.isdigit():
                ids.add(int(part))
            else:
                names.add(part.casefold())
        if not names and not ids:
            raise ValueError("names no company (use none to sync no company KB)")
        return cls("list", frozenset(names), frozenset(ids))

    def unmatched(self, companies: Iterable[tuple[int, str]]) -> list[str]:
        """The names and ids in the list that match no company (so probably mistyped)."""
        known = list(companies)
        ids = {company_id for company_id, _ in known}
        names = {name.casefold() for _, name in known}
        return sorted(self.names - names) + [str(i) for i in sorted(self.ids - ids)]

    def includes(self, company_id: int, company_name: str) -> bool:
        if self.mode == "all":
            return True
        if self.mode == "none":
            return False
        return company_id in self.ids or company_name.casefold() in self.names

    def __repr__(self) -> str:
        return f"CompanyFilter({self.mode!r}, names={sorted(self.names)}, ids={sorted(self.ids)})"


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings; raise `ConfigError` naming the first bad variable."""
    return _validated(Settings, overrides)


def load_db_path() -> Path:
    return _validated(StoreSettings, {}).hhsync_db


def load_store_settings() -> StoreSettings:
    """The mapping file and the service socket (no credentials needed: `hhsync status`)."""
    return _validated(StoreSettings, {})


def _validated(cls: type[T], overrides: dict[str, Any]) -> T:
    try:
        return cls(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        if first["type"] == "missing":
            raise ConfigError(variable, "is not set") from None
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(variable, message) from None
