"""The built wheel, installed outside the checkout, serves the app; it ships no test helpers.

Builds the wheel from a copy of the checkout (so no stale ``build/`` folder can leak into
it), installs it into a fresh virtualenv in a temporary folder, initialises a database
there and serves it with gunicorn from a temporary working directory: nothing of the
checkout is on the installed app's path. pip takes the dependencies from the package
index (or its cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from tests.support.live import Gunicorn

ROOT = Path(__file__).resolve().parents[2]
# Never copied into the build: local state of a working checkout.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "test-artifacts", "results", "*.sqlite3*",
)  # fmt: skip

pytestmark = pytest.mark.slow


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), "."],
        cwd=source,
    )
    (built,) = (tmp / "dist").glob("campaign-*.whl")
    return built


def test_wheel_has_what_the_app_needs_and_nothing_the_tests_need(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "templates").rglob("*.html"):
        assert f"campaign/templates/{path.relative_to(ROOT / 'templates').as_posix()}" in names
    assert "campaign/static/style.css" in names
    assert "campaign/migrations/env.py" in names
    assert "campaign/migrations/script.py.mako" in names
    for path in (ROOT / "campaign" / "migrations" / "versions").glob("*.py"):
        assert f"campaign/migrations/versions/{path.name}" in names
    assert "campaign/wsgi.py" in names
    leaked = sorted(
        name
        for name in names
        if name.startswith(("campaign/testing/", "tests/", "bench/", "instance/"))
        or name.endswith(("conftest.py", ".sqlite3"))
    )
    assert leaked == []


def test_installed_wheel_serves_pages_static_files_and_the_feed(wheel, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         f"{wheel}[postgres]"],
        cwd=tmp_path,
    )  # fmt: skip

    workdir = tmp_path / "run"  # an empty working directory: no checkout on sys.path
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        CAMPAIGN_INSTANCE_PATH=str(tmp_path / "instance"),
        CAMPAIGN_SITE_URL="http://campaign.test",
    )
    where = run([python, "-c", "import campaign; print(campaign.__file__)"], cwd=workdir, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)

    flask = [str(venv / "bin" / "flask"), "--app", "campaign"]
    run([*flask, "init-db"], cwd=workdir, env=env)
    run([*flask, "seed-demo", "--events", "20"], cwd=workdir, env=env)
    assert (tmp_path / "instance" / "campaign.sqlite3").is_file()

    server_env = {name: None for name in os.environ if name.startswith("PYTHON")}
    server_env.update(
        VIRTUAL_ENV=None,
        CAMPAIGN_DATABASE_URL=None,
        CAMPAIGN_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    with Gunicorn(
        None, workers=1, log_dir=tmp_path / "logs", env=server_env, python=python, cwd=workdir
    ) as server:
        home = requests.get(server.base + "/", timeout=30)
        assert home.status_code == 200, server.log_text()
        assert "IPAP 2 campaign" in home.text
        assert 'href="/static/style.css"' in home.text

        for page in ("/events", "/login", "/themes"):  # templates in sub-folders too
            assert requests.get(server.base + page, timeout=30).status_code == 200, page

        style = requests.get(server.base + "/static/style.css", timeout=30)
        assert style.status_code == 200
        assert style.content == (ROOT / "static" / "style.css").read_bytes()

        feed = requests.get(server.base + "/calendar.ics", timeout=30)
        assert feed.status_code == 200, server.log_text()
        assert feed.headers["Content-Type"].startswith("text/calendar")
        assert feed.text.startswith("BEGIN:VCALENDAR\r\n")
        assert feed.text.count("BEGIN:VEVENT") > 0
