"""Download the public reference sources into a folder laid out like the reference data.

Each file is streamed to a temporary file inside ``dest`` while its sha256 and size are
computed; archives are checked (no member may escape the destination) and extracted into
a staging folder; only then is everything renamed into place. An error never leaves a
half-written file and never touches files fetched earlier. ``dest/fetch-record.json``
records, for every downloaded file: source id, origin, URL actually used, destination
paths, ``fetched_at`` (UTC), sha256 and size.

Mirror layout: ``mirror`` (a base URL such as ``file:///srv/mirror`` or a local folder)
replaces every origin; a file is looked up at ``<mirror>/<source id>/<name>``, where
``<name>`` is the ``fichier=`` query value (BDPM) or else the last part of the origin URL
path (see :func:`mirror_relative_path`)::

    <mirror>/schema-snds/schema-snds-master.tar.gz
    <mirror>/nomensland/ccam_actes.json.gz  (… one per nomensland table)
    <mirror>/bdpm/CIS_bdpm.txt  (… CIS_CIP_bdpm.txt, CIS_COMPO_bdpm.txt, …)
    <mirror>/omop-cdm/OMOP_CDMv5.4_Field_Level.csv, OMOP_CDMv5.4_Table_Level.csv
    <mirror>/omop-vocab-sample/Synthea27Nj_5.4.zip

>>> from sndskit.refdata.sources import get_source
>>> mirror_relative_path(get_source("bdpm").files[0])
'bdpm/CIS_bdpm.txt'

Typical use::

    report = fetch_sources("sources", mirror="file:///srv/mirror", only=["bdpm"])
    print(report.total_bytes, report.record_path)
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, NamedTuple
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

from sndskit import __version__
from sndskit.errors import SndskitError
from sndskit.io import replace_directory, write_json_atomic
from sndskit.refdata.sources import PUBLIC_SOURCES, ExtractRule, RemoteFile, Source, get_source

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(description, advance_bytes, total_bytes_or_None)``; first call has advance 0."""

RECORD_NAME = "fetch-record.json"
RECORD_FORMAT = "sndskit-fetch-record/1"
_CHUNK = 1 << 16


class FetchedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    origin: str
    url: str
    destinations: tuple[str, ...]
    fetched_at: str
    sha256: str
    bytes: int


class FetchReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: tuple[FetchedFile, ...]
    total_bytes: int
    record_path: Path


def mirror_relative_path(file_spec: RemoteFile, source_id: str | None = None) -> str:
    """Path of ``file_spec`` inside a mirror: ``<source id>/<mirror name>``.

    ``source_id`` defaults to the registered source that lists ``file_spec``.
    """
    if source_id is None:
        owners = [s.id for s in PUBLIC_SOURCES if file_spec in s.files]
        if not owners:
            raise SndskitError(f"{file_spec.url} is not in a registered source; pass source_id")
        source_id = owners[0]
    return f"{source_id}/{file_spec.mirror_name}"


def fetch_sources(
    dest: str | Path,
    *,
    mirror: str | Path | None = None,
    only: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 60,
) -> FetchReport:
    """Download the sources (all, or those listed in ``only``) into ``dest``.

    Raises :class:`SndskitError` naming the URL and the source on the first failure;
    files fetched before it stay in place and in the record.
    """
    dest = Path(dest)
    if only is None:
        sources: list[Source] = list(PUBLIC_SOURCES)
    else:
        sources = [get_source(i) for i in dict.fromkeys(only)]
        if not sources:
            raise SndskitError("no source selected", allowed=[s.id for s in PUBLIC_SOURCES])
    dest.mkdir(parents=True, exist_ok=True)
    record_path = dest / RECORD_NAME
    entries = _load_record(record_path)
    fetched: list[FetchedFile] = []
    for source in sources:
        for spec in source.files:
            url = _mirror_url(mirror, spec, source.id) if mirror is not None else spec.url
            entry = _fetch_one(source, spec, url, dest, progress, timeout)
            fetched.append(entry)
            entries[(entry.source, entry.origin)] = entry
            # Written after every file so the record always describes what is on disk.
            _write_record(record_path, entries)
    return FetchReport(
        files=tuple(fetched), total_bytes=sum(f.bytes for f in fetched), record_path=record_path
    )


def _mirror_url(mirror: str | Path, spec: RemoteFile, source_id: str) -> str:
    base = str(mirror)
    if "://" not in base:
        base = Path(base).resolve().as_uri()
    return base.rstrip("/") + "/" + quote(mirror_relative_path(spec, source_id))


def _load_record(path: Path) -> dict[tuple[str, str], FetchedFile]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = [FetchedFile.model_validate(item) for item in data["files"]]
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise SndskitError(
            f"unreadable fetch record ({type(exc).__name__})",
            file=path,
            hint="delete it to start a new record",
        ) from exc
    return {(f.source, f.origin): f for f in files}


def _write_record(path: Path, entries: dict[tuple[str, str], FetchedFile]) -> None:
    keys = [(s.id, f.url) for s in PUBLIC_SOURCES for f in s.files]
    # Entries of origins no longer registered are dropped; their files are left alone.
    kept = [entries[key] for key in keys if key in entries]
    write_json_atomic(
        path,
        {
            "format": RECORD_FORMAT,
            "updated_at": _now(),
            "files": [e.model_dump(mode="json") for e in kept],
        },
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fetch_one(
    source: Source,
    spec: RemoteFile,
    url: str,
    dest: Path,
    progress: ProgressCallback | None,
    timeout: float,
) -> FetchedFile:
    where = f"source '{source.id}', {url}"
    with tempfile.TemporaryDirectory(prefix=".sndskit-fetch-", dir=dest) as tmp:
        staging = Path(tmp)
        download = staging / "download"
        label = f"{source.id}: {spec.mirror_name}"
        try:
            sha256, size = _download(url, download, label, progress, timeout)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise SndskitError(f"{where}: download failed: {reason}") from exc
        if spec.kind != "file":
            destinations = _extract(spec, download, staging / "tree", dest, where)
        else:
            assert spec.dest is not None  # guaranteed by RemoteFile's validator
            try:
                (dest / spec.dest).parent.mkdir(parents=True, exist_ok=True)
                os.replace(download, dest / spec.dest)
            except OSError as exc:
                raise SndskitError(f"{where}: cannot write {spec.dest}: {exc}") from exc
            destinations = [spec.dest]
    return FetchedFile(
        source=source.id,
        origin=spec.url,
        url=url,
        destinations=tuple(destinations),
        fetched_at=_now(),
        sha256=sha256,
        bytes=size,
    )


def _download(
    url: str, target: Path, label: str, progress: ProgressCallback | None, timeout: float
) -> tuple[str, int]:
    request = urllib.request.Request(url, headers={"User-Agent": f"sndskit/{__version__}"})
    digest = hashlib.sha256()
    size = 0
    with urllib.request.urlopen(request, timeout=timeout) as response, target.open("wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if progress:
            progress(label, 0, total)
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            if progress:
                progress(label, len(chunk), total)
    if total is not None and size != total:
        raise ValueError(f"truncated: {size} bytes received, {total} announced")
    return digest.hexdigest(), size


class _Member(NamedTuple):
    name: str
    open: Callable[[], IO[bytes]]


@contextlib.contextmanager
def _archive_members(path: Path, kind: str) -> Iterator[tuple[list[str], list[_Member]]]:
    """Yield (all member names, regular-file members); links and devices are never extracted."""
    if kind == "zip":
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            yield (
                [i.filename for i in infos],
                [_Member(i.filename, lambda i=i: zf.open(i)) for i in infos if not i.is_dir()],
            )
    else:
        with tarfile.open(path, mode="r:gz") as tf:
            members = tf.getmembers()
            files = [m for m in members if m.isfile()]
            yield (
                [m.name for m in members],
                [_Member(m.name, lambda m=m: tf.extractfile(m)) for m in files],  # type: ignore[misc]
            )


def _escapes(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def _map_member(name: str, rule: ExtractRule) -> str | None:
    if rule.names:
        if not name.startswith(rule.member):
            return None
        base = PurePosixPath(name).name.lower()
        return next((f"{rule.dest}/{n}" for n in rule.names if n.lower() == base), None)
    if rule.is_folder:
        rest = name[len(rule.member) :] if name.startswith(rule.member) else ""
        return f"{rule.dest}/{rest}" if rest.strip("/") else None
    return rule.dest if name == rule.member else None


def _extract(spec: RemoteFile, archive: Path, tree: Path, dest: Path, where: str) -> list[str]:
    """Extract the members ``spec`` selects into ``tree``, then move them into ``dest``."""
    placed: dict[str, ExtractRule] = {}
    try:
        with _archive_members(archive, spec.kind) as (names, members):
            bad = [n for n in names if _escapes(n)]
            if bad:
                raise SndskitError(f"{where}: archive member '{bad[0]}' escapes the destination")
            tree_root = tree.resolve()
            for member in members:
                for rule in spec.extract:
                    rel = _map_member(member.name, rule)
                    if rel is None:
                        continue
                    if rel in placed:
                        raise SndskitError(f"{where}: two archive members map to '{rel}'")
                    out = tree / rel
                    if not out.resolve().is_relative_to(tree_root):
                        raise SndskitError(f"{where}: '{member.name}' escapes the destination")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with member.open() as src, out.open("wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
                    placed[rel] = rule
                    break
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise SndskitError(f"{where}: cannot extract the {spec.kind} archive: {exc}") from exc
    for rule in spec.extract:
        found = {PurePosixPath(rel).name.lower() for rel, r in placed.items() if r is rule}
        missing = [n for n in rule.names if n.lower() not in found]
        if rule.required and (missing or not found):
            what = ", ".join(missing) if missing else f"'{rule.member}'"
            raise SndskitError(f"{where}: archive has no {what}", hint="its layout changed?")
    for rule in spec.extract:
        if rule.is_folder:
            if (tree / rule.dest).is_dir():
                (dest / rule.dest).parent.mkdir(parents=True, exist_ok=True)
                replace_directory(tree / rule.dest, dest / rule.dest)
            continue
        for rel in (rel for rel, r in placed.items() if r is rule):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tree / rel, dest / rel)
    return sorted(placed)
