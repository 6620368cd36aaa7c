"""The instance settings of notifications: read from the environment or modelworks.toml, nothing
outbound by default, and a plain error for a wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelworks.config.env import ConfigError, load_config


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "MODELWORKS_CONFIG",
        "MODELWORKS_PUBLIC_URL",
        "MODELWORKS_SMTP_HOST",
        "MODELWORKS_SMTP_PORT",
        "MODELWORKS_SMTP_USER",
        "MODELWORKS_SMTP_PASSWORD",
        "MODELWORKS_SMTP_SECURITY",
        "MODELWORKS_SMTP_FROM",
        "MODELWORKS_WEBHOOK_ALLOWLIST",
        "MODELWORKS_WEBHOOK_ALLOW_HTTP",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODELWORKS_HOME", str(tmp_path))
    return tmp_path


def test_nothing_goes_out_by_default(clean_env: Path) -> None:
    config = load_config()
    assert (config.smtp_host, config.webhook_allowlist, config.webhook_allow_http) == ("", [], False)
    assert (config.smtp_port, config.smtp_security, config.public_url) == (587, "starttls", "")


def test_notification_settings_from_the_file_and_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "modelworks.toml").write_text(
        "[modelworks]\n"
        'smtp_host = "mail.example.org"\n'
        "smtp_port = 465\n"
        'smtp_security = "ssl"\n'
        'smtp_from = "modelworks@example.org"\n'
        'webhook_allowlist = ["hooks.example.org", "10.0.0.0/8"]\n'
        'public_url = "https://ai.example.org/"\n'
    )
    monkeypatch.setenv("MODELWORKS_SMTP_USER", "robot")
    monkeypatch.setenv("MODELWORKS_WEBHOOK_ALLOW_HTTP", "yes")
    config = load_config()
    assert (config.smtp_host, config.smtp_port, config.smtp_security) == ("mail.example.org", 465, "ssl")
    assert (config.smtp_user, config.smtp_from) == ("robot", "modelworks@example.org")
    assert config.webhook_allowlist == ["hooks.example.org", "10.0.0.0/8"]
    assert config.webhook_allow_http is True and config.public_url == "https://ai.example.org"
    monkeypatch.setenv("MODELWORKS_WEBHOOK_ALLOWLIST", "a.example, *.b.example")
    assert load_config().webhook_allowlist == ["a.example", "*.b.example"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "MODELWORKS_SMTP_SECURITY",
            "tls",
            r"MODELWORKS_SMTP_SECURITY must be one of starttls, ssl, none, got 'tls'",
        ),
        ("MODELWORKS_SMTP_PORT", "twenty-five", r"MODELWORKS_SMTP_PORT must be a whole number"),
        (
            "MODELWORKS_WEBHOOK_ALLOW_HTTP",
            "maybe",
            r"MODELWORKS_WEBHOOK_ALLOW_HTTP must be true or false, got 'maybe'",
        ),
    ],
)
def test_bad_values_are_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config()
