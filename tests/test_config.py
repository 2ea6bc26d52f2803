"""Settings: secrets from files, unknown variables named, serving options from the env."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings, unknown_variables


def test_secrets_come_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "keys").write_text("alpha\nbeta, gamma\n")
    (tmp_path / "hook").write_text("https://hooks.slack.com/services/T/B/x\n")
    monkeypatch.setenv("BRIEFING_API_KEYS_FILE", str(tmp_path / "keys"))
    monkeypatch.setenv("BRIEFING_SLACK_WEBHOOK_URL_FILE", str(tmp_path / "hook"))
    settings = Settings()
    assert settings.api_key_list == ["alpha", "beta", "gamma"]
    assert settings.slack_webhook_url is not None
    assert settings.slack_webhook_url.get_secret_value() == "https://hooks.slack.com/services/T/B/x"
    assert "alpha" not in repr(settings) and "services/T/B/x" not in repr(settings)


def test_a_secret_and_its_file_at_once_or_a_missing_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "keys").write_text("alpha")
    with pytest.raises(ValidationError, match="BRIEFING_API_KEYS or BRIEFING_API_KEYS_FILE"):
        Settings(api_keys="beta", api_keys_file=tmp_path / "keys")
    with pytest.raises(ValidationError, match="BRIEFING_SLACK_WEBHOOK_URL_FILE: cannot read"):
        Settings(slack_webhook_url_file=tmp_path / "missing")


def test_unknown_variables_are_named_with_the_closest_setting() -> None:
    found = unknown_variables({
        "BRIEFING_SLAK_WEBHOOK_URL": "x", "BRIEFING_MODEL": "m", "BRIEFING_ZZZ": "1",
        "briefing_api_key": "k", "PATH": "/bin", "BRIEFING_API_KEYS_FILE": "/run/keys",
    })
    assert found == {"BRIEFING_SLAK_WEBHOOK_URL": "BRIEFING_SLACK_WEBHOOK_URL",
                     "BRIEFING_ZZZ": None, "briefing_api_key": "BRIEFING_API_KEYS"}


def test_serving_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("HOST", "0.0.0.0"), ("PORT", "9001"), ("LOG_LEVEL", "warning"),
                        ("LOG_FORMAT", "json")):
        monkeypatch.setenv(f"BRIEFING_{name}", value)
    settings = Settings()
    assert (settings.host, settings.port, settings.log_level, settings.log_format) == (
        "0.0.0.0", 9001, "warning", "json")
    monkeypatch.setenv("BRIEFING_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()
