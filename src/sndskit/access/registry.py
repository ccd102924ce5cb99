"""The project registry: SNDS projects, their stages and the history of every change.

SQLite in ``$SNDSKIT_HOME/registry.sqlite`` by default, PostgreSQL (or any SQLAlchemy URL)
with ``url=`` or ``SNDSKIT_REGISTRY_URL``. The schema is created and upgraded by Alembic
migrations (``sndskit/access/migrations``). Each project carries a version: an update
re-reads the row inside a locking transaction and writes only if the version is still the
one it read, so two concurrent updates of one project never lose each other's changes.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from rapidfuzz import process

from sndskit.access.registry_model import LIST_FIELDS, ProjectRecord, changes, projects
from sndskit.config import sndskit_home
from sndskit.errors import SndskitError

MAX_ATTEMPTS = 20
MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    return os.environ.get("SNDSKIT_REGISTRY_URL") or (
        f"sqlite:///{sndskit_home() / 'registry.sqlite'}"
    )


def _sqlite_engine(url: str) -> sa.Engine:
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    # pysqlite's own transaction handling defers locks: writers that both read first
    # would dead-lock. BEGIN IMMEDIATE takes the write lock when the transaction starts.
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


class Registry:
    """Open (and migrate to the latest schema) the registry at ``url``."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_url()
        if self.url.startswith("sqlite"):
            self.engine = _sqlite_engine(self.url)
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        if migrate:
            self.migrate()

    # -- schema -----------------------------------------------------------------------
    def _alembic(self, connection: sa.Connection):
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def migrate(self, revision: str = "head") -> None:
        from alembic import command

        with self.engine.begin() as connection:
            command.upgrade(self._alembic(connection), revision)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    # -- reading ----------------------------------------------------------------------
    def _row(self, connection: sa.Connection, reference: str, lock: bool = False):
        query = sa.select(projects).where(projects.c.reference == reference)
        if lock and self.engine.dialect.name != "sqlite":
            query = query.with_for_update()
        row = connection.execute(query).mappings().first()
        if row is None:
            known = [r[0] for r in connection.execute(sa.select(projects.c.reference))]
            near = [m[0] for m in process.extract(reference, known, limit=3, score_cutoff=60)]
            raise SndskitError(
                f"unknown project {reference!r}",
                field="reference",
                hint=f"did you mean: {', '.join(near)}?" if near else None,
            )
        return row

    def get(self, reference: str) -> ProjectRecord:
        with self.engine.connect() as connection:
            return ProjectRecord.from_row(dict(self._row(connection, reference)))

    def list_projects(self, route: str | None = None) -> list[ProjectRecord]:
        query = sa.select(projects).order_by(projects.c.reference)
        if route:
            query = query.where(projects.c.route == route)
        with self.engine.connect() as connection:
            return [ProjectRecord.from_row(dict(r)) for r in connection.execute(query).mappings()]

    def history(self, reference: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            project_id = self._row(connection, reference)["id"]
            query = (
                sa.select(changes)
                .where(changes.c.project_id == project_id)
                .order_by(changes.c.version, changes.c.id)
            )
            return [dict(r) for r in connection.execute(query).mappings()]

    # -- writing ----------------------------------------------------------------------
    def _log(self, connection, project_id, version, by, field, old, new) -> None:
        connection.execute(
            changes.insert().values(
                project_id=project_id,
                version=version,
                changed_at=datetime.now(UTC),
                changed_by=by,
                field=field,
                old_value=_text(old),
                new_value=_text(new),
            )
        )

    def add(self, record: ProjectRecord, *, by: str) -> ProjectRecord:
        with self.engine.begin() as connection:
            exists = connection.execute(
                sa.select(projects.c.id).where(projects.c.reference == record.reference)
            ).first()
            if exists:
                raise SndskitError(
                    f"project {record.reference!r} already exists",
                    field="reference",
                    hint="use `sndskit registry update`",
                )
            result = connection.execute(projects.insert().values(**record.to_row(), version=1))
            self._log(connection, result.inserted_primary_key[0], 1, by, "*", None, "created")
        return record.model_copy(update={"version": 1})

    def update(
        self,
        reference: str,
        *,
        by: str,
        set_values: dict[str, Any] | None = None,
        append: dict[str, list[Any]] | None = None,
        expected_version: int | None = None,
    ) -> ProjectRecord:
        """Change fields (``set_values``) and append to list fields (``append``).

        With ``expected_version`` (the version the caller displayed), a project changed
        meanwhile is refused instead of overwritten.
        """
        for name in append or {}:
            if name not in LIST_FIELDS:
                raise SndskitError(
                    "only list fields take appended values", field=name, allowed=LIST_FIELDS
                )
        for _ in range(MAX_ATTEMPTS):
            with self.engine.begin() as connection:
                row = self._row(connection, reference, lock=True)
                current = ProjectRecord.from_row(dict(row))
                if expected_version is not None and current.version != expected_version:
                    raise SndskitError(
                        f"project {reference!r} is at version {current.version}, not "
                        f"{expected_version}: it changed meanwhile",
                        field="version",
                        hint="show it again and redo the change",
                    )
                updated = self._apply(current, set_values or {}, append or {})
                changed = {k: v for k, v in updated.to_row().items() if current.to_row()[k] != v}
                if not changed:
                    return current
                version = current.version + 1
                result = connection.execute(
                    projects.update()
                    .where(projects.c.id == row["id"], projects.c.version == current.version)
                    .values(**changed, version=version)
                )
                if result.rowcount != 1:
                    continue  # someone else wrote first: re-read and re-apply
                old = current.model_dump(mode="json")
                new = updated.model_dump(mode="json")
                for name in changed:
                    self._log(connection, row["id"], version, by, name, old[name], new[name])
                return updated.model_copy(update={"version": version})
        raise SndskitError(f"project {reference!r}: too many concurrent updates, try again")

    @staticmethod
    def _apply(
        current: ProjectRecord, set_values: dict[str, Any], append: dict[str, list[Any]]
    ) -> ProjectRecord:
        data = current.model_dump(mode="json")
        unknown = [k for k in [*set_values, *append] if k not in data or k == "version"]
        if unknown:
            allowed = [k for k in data if k != "version"]
            raise SndskitError("unknown registry field", field=unknown[0], allowed=allowed)
        data.update(set_values)
        for name, values in append.items():
            data[name] = [*data[name], *[v for v in values if v not in data[name]]]
        try:
            return ProjectRecord.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            raise SndskitError(error["msg"], field=field) from None
