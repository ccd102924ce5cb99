"""Fixtures of the access tests: the real catalogue store and editable copies of the
example study (its cohort paths made absolute so a copy can live anywhere)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(str(resources.files("sndskit") / "resources"))
STUDY = EXAMPLES / "access" / "examples" / "study.yaml"
COHORTS = EXAMPLES / "cohorts" / "examples"


@pytest.fixture
def store_home(real_home, monkeypatch) -> Path:
    """Code lists and the catalogue come from the real reference data's store."""
    monkeypatch.setenv("SNDSKIT_HOME", str(real_home))
    return real_home


def example_study() -> dict:
    data = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    for cohort in data["cohorts"]:
        cohort["spec"] = str((STUDY.parent / cohort["spec"]).resolve())
    return data


@pytest.fixture
def write_study(tmp_path, store_home):
    """Write a study dict as YAML in a fresh folder and load it."""
    from sndskit.access.spec import load_study

    def write(data: dict, name: str = "study.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        return load_study(path)

    return write


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server: SNDSKIT_TEST_POSTGRES_URL, or a throw-away cluster started
    here on loopback from the installed server binaries (Debian's `postgresql` package,
    which `.ci/run` installs)."""
    import glob
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    url = os.environ.get("SNDSKIT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    workdir = Path(tempfile.mkdtemp(prefix="sndskit-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(workdir, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = workdir / "data"
    subprocess.run(
        [*as_user, bindir / "initdb", "-D", data, "-A", "trust", "-U", "sndskit", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_user,
            bindir / "pg_ctl",
            "-D",
            data,
            "-l",
            workdir / "log",
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://sndskit@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, bindir / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request, tmp_path):
    """A fresh, empty registry database on SQLite or on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    import uuid

    import sqlalchemy as sa

    server = request.getfixturevalue("postgres_server")
    name = f"registry_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
