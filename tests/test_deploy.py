"""compose.yaml and the systemd units: the services exist and each command runs a real entry point.

Docker is not needed: the files are read as YAML / unit files, and each
command line is checked against this installation (gunicorn loads the WSGI
app with ``--check-config``; celery parses the exact worker and beat options).
"""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

from stammkunde import settings as settings_module

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP_SERVICES = {"migrate", "web", "worker", "beat"}
UNITS = ("stammkunde-web", "stammkunde-worker", "stammkunde-beat")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keep the case of keys
    unit.read(ROOT / "deploy" / "systemd" / f"{name}.service")
    return unit


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=120
    )


def _check_command(argv: list[str]) -> None:
    """Fail unless ``argv`` (as compose or systemd would run it) names a real entry point."""
    program = Path(argv[0]).name
    assert (BIN / program).exists(), f"{program} is not installed"
    if program == "gunicorn":
        done = _run(["gunicorn", "--check-config", *argv[1:]])
        assert done.returncode == 0, done.stderr[-2000:]
    elif program == "celery":
        assert argv[1:3] == ["-A", "stammkunde"]
        assert argv[3] in {"worker", "beat"}
        if "-S" in argv:
            scheduler = argv[argv.index("-S") + 1]
            names = {e.name for e in entry_points(group="celery.beat_schedulers")}
            assert scheduler in names
        # --help after every option: click rejects an unknown option or bad value first
        done = _run(["celery", *argv[1:], "--help"])
        assert done.returncode == 0, done.stderr[-2000:]
    elif program == "stammkunde":
        assert argv[1] in get_commands(), f"no management command {argv[1]!r}"
    else:
        pytest.fail(f"unexpected program {program!r}")


def _settings_read() -> set[str]:
    source = Path(settings_module.__file__).read_text()
    return set(re.findall(r"""(?:environ\.get|_env_bool)\("([A-Z_]+)\"""", source))


def _env_keys(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _sep, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_compose_has_web_worker_beat_postgresql_15_and_redis() -> None:
    services = _compose()["services"]
    assert set(services) == APP_SERVICES | {"db", "redis"}
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis:")
    for name in ("db", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name


def test_compose_services_read_one_env_file_and_wait_for_their_peers() -> None:
    services = _compose()["services"]
    for name in APP_SERVICES | {"db"}:
        assert services[name]["env_file"] == "stammkunde.env", name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    build = services["web"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).exists()


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_compose_command_names_a_real_entry_point(service: str) -> None:
    _check_command(_compose()["services"][service]["command"])


@pytest.mark.parametrize("name", UNITS)
def test_systemd_unit_command_names_a_real_entry_point(name: str) -> None:
    service = _unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/stammkunde/stammkunde.env"
    assert service["User"] == "stammkunde"
    argv = shlex.split(service["ExecStart"].replace("%%", "%"))
    assert argv[0].startswith("/opt/stammkunde/.venv/bin/")
    _check_command(argv)
    if "ExecStartPre" in service:
        _check_command(shlex.split(service["ExecStartPre"]))


def test_the_units_run_gunicorn_a_worker_and_beat_with_the_database_schedule() -> None:
    commands = {name: _unit(name)["Service"]["ExecStart"] for name in UNITS}
    assert "gunicorn stammkunde.wsgi" in commands["stammkunde-web"]
    assert "celery -A stammkunde worker" in commands["stammkunde-worker"]
    assert "celery -A stammkunde beat" in commands["stammkunde-beat"]
    assert "-S django" in commands["stammkunde-beat"]


@pytest.mark.parametrize(
    "path", ["deploy/compose.env.example", "deploy/systemd/stammkunde.env.example"]
)
def test_env_examples_name_only_real_settings_and_hold_no_secret(path: str) -> None:
    pairs = _env_keys(ROOT / path)
    postgres = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
    assert set(pairs) - postgres <= _settings_read()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= set(pairs)
    assert pairs["SECRET_KEY"] == "change-me"
    assert ":change-me@" in pairs["DATABASE_URL"]
    assert pairs.get("POSTGRES_PASSWORD", "change-me") == "change-me"
