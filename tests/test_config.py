"""Bad config exits naming the key and what is expected; the example config is valid."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load, parse
from commands.board_schedule import BoardSchedule

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "matrix": {"homeserver": "https://matrix.police.example", "user_id": "@bot:police.example",
               "password": "x"},
    "access": {"allowed_inviters": ["@*:police.example"]},
}


def with_(section: str, **values: object) -> dict:
    data = {k: dict(v) for k, v in GOOD.items()}
    data.setdefault(section, {}).update(values)
    return data


def test_example_config_is_valid() -> None:
    config = load(ROOT / "config.example.toml")
    assert config.matrix.user_id == "@opsroom:police.example"
    assert config.settings.lead_level == 50 and config.settings.default_tlp == "AMBER"
    assert config.data_dir == ROOT / "var" / "opsroom"
    assert config.slow_workers == 2


@pytest.mark.parametrize(("data", "key"), [
    (with_("matrix", homeserver="matrix.police.example"), "matrix.homeserver"),
    (with_("matrix", homeserver=42), "matrix.homeserver"),
    (with_("matrix", user_id="opsroom"), "matrix.user_id"),
    (with_("matrix", password=None) | {"matrix": {"homeserver": "https://h.example",
                                                   "user_id": "@b:h.example"}}, "matrix.password"),
    (with_("access", allowed_inviters=[]), "access.allowed_inviters"),
    (with_("access", allowed_inviters="@*:x"), "access.allowed_inviters"),
    (with_("access", lead_level=500), "access.lead_level"),
    (with_("access", lead_level="high"), "access.lead_level"),
    (with_("access", require_encryption="yes"), "access.require_encryption"),
    (with_("defaults", timezone="Mars/Olympus"), "defaults.timezone"),
    (with_("defaults", tlp="WHITE"), "defaults.tlp"),
    (with_("defaults", language="de"), "defaults.language"),
    (with_("access", alowed_inviters=["@*:x"]), "access.alowed_inviters"),
    (with_("extras", x=1), "extras"),
    (with_("runtime", slow_workers=0), "runtime.slow_workers"),
    (with_("runtime", slow_workers=1000), "runtime.slow_workers"),
    (with_("runtime", slow_workers="two"), "runtime.slow_workers"),
    (with_("limits", commands_per_minute=-1), "limits.commands_per_minute"),
    (with_("limits", commands_per_minute="30/min"), "limits.commands_per_minute"),
    (with_("limits", burst=0), "limits.burst"),
    (with_("limits", bursts=5), "limits.bursts"),
    (with_("runtime", processed_retention_days=0), "runtime.processed_retention_days"),
    (with_("runtime", processed_retention_days=1.5), "runtime.processed_retention_days"),
    (with_("metrics", listen="9464"), "metrics.listen"),
    (with_("metrics", listen="127.0.0.1:http"), "metrics.listen"),
    (with_("metrics", listen="127.0.0.1:70000"), "metrics.listen"),
    (with_("metrics", listen=":9464"), "metrics.listen"),
    (with_("metrics", listen=9464), "metrics.listen"),
    (with_("metrics", max_sync_age=0), "metrics.max_sync_age"),
    (with_("metrics", listen="0.0.0.0:9464"), "metrics.listen"),  # beyond loopback, no token
    (with_("metrics", listen="metrics.police.example:9464"), "metrics.listen"),
    (with_("metrics", listen="10.0.0.5:9464"), "metrics.listen"),
    (with_("metrics", listen="0.0.0.0:9464", bearer_token="short"), "metrics.bearer_token"),
    (with_("metrics", bearer_token="a token with spaces in it"), "metrics.bearer_token"),
    (with_("board", before_h="soon"), "board.before_h"),
    (with_("board", before_h=15), "board.before_h"),
    (with_("board", before_h="0m"), "board.before_h"),
    (with_("board", with_sitreps="yes"), "board.with_sitreps"),
    (with_("board", before="15m"), "board.before"),
    (with_("deconfliction", enabled="yes"), "deconfliction.enabled"),
    (with_("deconfliction", enable=True), "deconfliction.enable"),
    (with_("deconfliction", grace_minutes=-1), "deconfliction.grace_minutes"),
    (with_("deconfliction", grace_minutes="10m"), "deconfliction.grace_minutes"),
])
def test_bad_config_names_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse(data)
    assert str(exc.value).startswith(key), exc.value


def test_limits_retention_and_metrics_are_read_with_defaults_when_absent() -> None:
    config = parse(GOOD)
    assert (config.limits.per_minute, config.limits.burst) == (30, 20)
    assert config.processed_retention_days == 90
    assert config.metrics_listen is None
    config = parse(with_("limits", commands_per_minute=0, burst=3)
                   | {"metrics": {"listen": "[::1]:9100", "max_sync_age": 30},
                      "runtime": {"processed_retention_days": 7}})
    assert (config.limits.per_minute, config.limits.burst) == (0, 3)
    assert config.metrics_listen == ("::1", 9100) and config.max_sync_age == 30.0
    assert config.processed_retention_days == 7
    exposed = parse(with_("metrics", listen="0.0.0.0:9464", bearer_token="f" * 32))
    assert exposed.metrics_listen == ("0.0.0.0", 9464) and exposed.metrics_token == "f" * 32
    assert parse(with_("metrics", listen="localhost:9464")).metrics_token is None


def test_board_posting_is_read_with_defaults_and_can_be_switched_off() -> None:
    assert parse(GOOD).boards == BoardSchedule(timedelta(minutes=15), with_sitreps=True)
    config = parse(with_("board", before_h="1h30m", with_sitreps=False))
    assert config.boards == BoardSchedule(timedelta(hours=1, minutes=30), with_sitreps=False)
    assert parse(with_("board", before_h="off")).boards.before_h is None
    with pytest.raises(ConfigError, match=r'board\.before_h: .*"15m".*"off"'):
        parse(with_("board", before_h="15 minutes"))


def test_check_config_accepts_every_documented_key(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text().replace(
        '# listen = "127.0.0.1:9464"', 'listen = "127.0.0.1:9464"')
    assert 'listen = "127.0.0.1:9464"' in text
    path = tmp_path / "config.toml"
    path.write_text(text)
    # forms.providers names a file beside the config
    (tmp_path / "providers.example.toml").write_text(
        (ROOT / "providers.example.toml").read_text())
    result = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", "-c", str(path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "metrics on 127.0.0.1:9464" in result.stdout


def test_check_config_exits_2_with_the_key_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[matrix]\nhomeserver = "ftp://x"\nuser_id = "@b:x"\npassword = "p"\n'
                   '[access]\nallowed_inviters = ["@*:x"]\n')
    result = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", "-c", str(bad)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "matrix.homeserver" in result.stderr and "http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_on_missing_file_and_bad_toml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[matrix\n")
    for path in (tmp_path / "missing.toml", broken):
        result = subprocess.run([sys.executable, "-m", "bot.cli", "check-config", "-c", str(path)],
                                capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert str(path) in result.stderr


def test_cross_signing_is_required_unless_switched_off() -> None:
    assert parse(GOOD).settings.require_cross_signed is True
    off = parse(with_("access", require_cross_signed=False))
    assert off.settings.require_cross_signed is False
    with pytest.raises(ConfigError, match=r"access\.require_cross_signed"):
        parse(with_("access", require_cross_signed="no"))


def test_deconfliction_is_on_unless_turned_off() -> None:
    assert parse(GOOD).settings.deconfliction is True
    assert parse(with_("deconfliction", enabled=False)).settings.deconfliction is False
    assert load(ROOT / "config.example.toml").settings.deconfliction is True


def test_a_deconfliction_hit_waits_ten_minutes_unless_configured() -> None:
    assert parse(GOOD).settings.deconfliction_grace == timedelta(minutes=10)
    assert parse(with_("deconfliction", grace_minutes=0)).settings.deconfliction_grace \
        == timedelta(0)
    assert load(ROOT / "config.example.toml").settings.deconfliction_grace \
        == timedelta(minutes=10)


def test_members_read_english_unless_the_config_chooses_another_language() -> None:
    assert parse(GOOD).settings.language == "en"
    assert parse(with_("defaults", language="AR")).settings.language == "ar"
    assert load(ROOT / "config.example.toml").settings.language == "en"


def test_password_may_go_once_the_session_is_saved(tmp_path: Path) -> None:
    data = {"matrix": {"homeserver": "https://h.example", "user_id": "@b:h.example"},
            "storage": {"data_dir": str(tmp_path)},
            "access": {"allowed_inviters": ["@*:h.example"]}}
    with pytest.raises(ConfigError, match=r"matrix\.password"):
        parse(data)
    (tmp_path / "session.json").write_text("{}")
    assert parse(data).matrix.password is None
