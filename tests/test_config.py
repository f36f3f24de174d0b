"""Settings: the variables of README's table, from the environment and `.env`, checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import (
    CompanyFilter,
    ConfigError,
    CustomerAccess,
    ImageMode,
    load_db_path,
    load_settings,
)

REQUIRED = {
    "HUDU_BASE_URL": "https://acme.huducloud.com",
    "HUDU_API_KEY": "hudu-key-123",
    "HALO_BASE_URL": "https://acme.halopsa.com",
    "HALO_CLIENT_ID": "client-id",
    "HALO_CLIENT_SECRET": "client-secret-456",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_follow_the_readme(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    settings = load_settings()

    assert settings.halo_auth_url == "https://acme.halopsa.com/auth"
    assert settings.halo_tenant == ""
    assert settings.halo_scope == "read:kb edit:kb"
    assert settings.hhsync_db == tmp_path / "data" / "hhsync" / "hhsync.json"
    assert settings.hhsync_sync_central is True
    assert settings.company_filter.mode == "all"
    assert settings.hhsync_show_for_all_users is False
    assert (settings.hhsync_interval, settings.hhsync_batch_size) == (300, 100)


def test_dotenv_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lines = [f"{name}={value}" for name, value in REQUIRED.items()]
    (tmp_path / ".env").write_text("\n".join([*lines, "HHSYNC_INTERVAL=600", "HALO_TENANT=acme"]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HHSYNC_INTERVAL", "900")

    settings = load_settings()

    assert settings.hhsync_interval == 900
    assert settings.halo_tenant == "acme"


@pytest.mark.parametrize(
    ("hudu", "halo"),
    [
        ("https://a.huducloud.com/", "https://a.halopsa.com/"),
        ("https://a.huducloud.com/api/v1", "https://a.halopsa.com/api"),
        ("https://a.huducloud.com/API/V1/", "https://a.halopsa.com/API"),
        ("https://a.huducloud.com/api", "https://a.halopsa.com"),
    ],
)
def test_base_urls_are_normalised(env: pytest.MonkeyPatch, hudu: str, halo: str) -> None:
    env.setenv("HUDU_BASE_URL", hudu)
    env.setenv("HALO_BASE_URL", halo)

    settings = load_settings()

    assert settings.hudu_base_url == "https://a.huducloud.com"
    assert settings.halo_base_url == "https://a.halopsa.com"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("HUDU_BASE_URL", "acme.huducloud.com", "https://"),
        ("HUDU_BASE_URL", "https://", "host"),
        ("HALO_BASE_URL", "https://acme.halopsa.com/?tenant=x", "query"),
        ("HHSYNC_INTERVAL", "soon", "integer"),
        ("HHSYNC_INTERVAL", "1", "10"),
        ("HHSYNC_BATCH_SIZE", "501", "500"),
        ("HHSYNC_SYNC_CENTRAL", "maybe", "bool"),
        ("HHSYNC_COMPANIES", " , ", "none"),
        ("HHSYNC_COMPANIES", "all,Acme", "mixed"),
        ("HALO_CLIENT_SECRET", "  ", "empty"),
    ],
)
def test_a_bad_value_names_the_variable_and_an_example(
    env: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    env.setenv(name, value)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.startswith(f"{name}: ") and "example" in message
    assert words.lower() in message.lower()
    assert "\n" not in message


def test_a_missing_value_says_so(env: pytest.MonkeyPatch) -> None:
    env.delenv("HUDU_API_KEY")

    with pytest.raises(ConfigError, match=r"^HUDU_API_KEY: is not set \(example: "):
        load_settings()


def test_secrets_never_show_in_repr_or_errors(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert "hudu-key-123" not in repr(settings) and "client-secret-456" not in repr(settings)

    env.setenv("HHSYNC_INTERVAL", "client-secret-456")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "client-secret-456" not in str(caught.value)


def test_the_mapping_path_needs_no_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HHSYNC_DB", str(tmp_path / "m.json"))
    assert load_db_path() == tmp_path / "m.json"


@pytest.mark.parametrize(
    ("raw", "company", "included"),
    [
        ("all", (7, "Acme"), True),
        ("none", (7, "Acme"), False),
        ("Acme Corp, 42", (42, "Globex"), True),
        ("Acme Corp, 42", (7, "acme corp"), True),
        ("Acme Corp, 42", (7, "Acme"), False),
    ],
)
def test_company_filter(raw: str, company: tuple[int, str], included: bool) -> None:
    assert CompanyFilter.parse(raw).includes(*company) is included


def test_company_filter_reports_names_that_match_nothing() -> None:
    wanted = CompanyFilter.parse("Acme Corp, Globx, 42, 99")

    assert wanted.unmatched([(42, "Globex"), (7, "ACME CORP")]) == ["globx", "99"]


def test_customer_access_defaults_to_matched_and_takes_any_case(env: pytest.MonkeyPatch) -> None:
    assert load_settings().hhsync_customer_access is CustomerAccess.MATCHED
    assert load_settings().customer_map == {}
    for raw, expected in (("Strict", CustomerAccess.STRICT), (" off ", CustomerAccess.OFF)):
        env.setenv("HHSYNC_CUSTOMER_ACCESS", raw)
        assert load_settings().hhsync_customer_access is expected


def test_an_unknown_customer_access_names_the_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("HHSYNC_CUSTOMER_ACCESS", "some")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.variable == "HHSYNC_CUSTOMER_ACCESS"
    assert "'matched', 'strict' or 'off'" in str(caught.value)


def test_customer_map_pairs(env: pytest.MonkeyPatch) -> None:
    env.setenv("HHSYNC_CUSTOMER_MAP", " 12=345, 17 = 346 ,")
    assert load_settings().customer_map == {12: 345, 17: 346}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("12", "'12' is not hudu_company_id=halo_client_id"),
        ("12=acme", "'12=acme' is not"),
        ("acme=12", "'acme=12' is not"),
        ("12=3,12=4", "Hudu company 12 is mapped twice"),
        ("12=-3", "'12=-3' is not"),
        ("12=0", "Halo client ids start at 1"),
    ],
)
def test_a_bad_customer_map_names_the_variable_and_the_entry(
    env: pytest.MonkeyPatch, raw: str, problem: str
) -> None:
    env.setenv("HHSYNC_CUSTOMER_MAP", raw)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.variable == "HHSYNC_CUSTOMER_MAP"
    assert problem in str(caught.value)
    assert "example: HHSYNC_CUSTOMER_MAP=" in str(caught.value)


def test_images_default_to_link_and_take_any_case(env: pytest.MonkeyPatch) -> None:
    assert load_settings().hhsync_images is ImageMode.LINK
    env.setenv("HHSYNC_IMAGES", " Copy ")
    assert load_settings().hhsync_images is ImageMode.COPY


def test_an_unknown_images_value_names_the_variable_and_an_example(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("HHSYNC_IMAGES", "embed")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.variable == "HHSYNC_IMAGES"
    assert "'link' or 'copy'" in str(caught.value)
    assert "example: HHSYNC_IMAGES=link" in str(caught.value)
