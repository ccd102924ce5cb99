"""`fetch_sources` against a hand-made file:// mirror (offline: no real origin is reached)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from sndskit.errors import SndskitError
from sndskit.refdata.fetch import RECORD_NAME, fetch_sources, mirror_relative_path
from sndskit.refdata.sources import PUBLIC_SOURCES, RemoteFile, get_source

SCHEMA_JSON = b'{"name": "ER_PRS_F", "fields": [{"name": "PRS_NAT_REF", "type": "integer"}]}'
BEN_JSON = b'{"name": "IR_BEN_R", "fields": [{"name": "BEN_NIR_PSA", "type": "string"}]}'
NOMENCLATURE_CSV = "PRS_NAT;PRS_NAT_LIB\n1111;Consultation généraliste\n".encode()
VOCAB = {
    "CONCEPT.csv": b"concept_id,concept_name,domain_id\n8507,MALE,Gender\n",
    "CONCEPT_RELATIONSHIP.csv": b"concept_id_1,concept_id_2,relationship_id\n1,2,Maps to\n",
    "CONCEPT_CLASS.csv": b"concept_class_id,concept_class_name\nGender,Gender\n",
    "DOMAIN.csv": b"domain_id,domain_name\nGender,Gender\n",
    "RELATIONSHIP.csv": b"relationship_id,relationship_name\nMaps to,Non-standard to standard\n",
    "VOCABULARY.csv": b"vocabulary_id,vocabulary_name\nGender,OMOP Gender\n",
    "CONCEPT_SYNONYM.csv": b"concept_id,concept_synonym_name\n",
}


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


SCHEMA_TAR = {
    "schema-snds-master/README.md": b"# schema-snds\n",
    "schema-snds-master/LICENSE": b"Mozilla Public License Version 2.0\n",
    "schema-snds-master/schemas/DCIR/ER_PRS_F.json": SCHEMA_JSON,
    "schema-snds-master/schemas/BENEFICIAIRE/IR_BEN_R.json": BEN_JSON,
    "schema-snds-master/nomenclatures/ORAVAL/IR_NAT_V.csv": NOMENCLATURE_CSV,
}


def _payload(source_id: str, spec: RemoteFile) -> bytes:
    if source_id == "schema-snds":
        return _tar_gz(SCHEMA_TAR)
    if source_id == "omop-vocab-sample":
        return _zip({**VOCAB, "PERSON.csv": b"person_id\n1\n"})
    if source_id == "nomensland":
        return gzip.compress(json.dumps([{"code": spec.mirror_name}]).encode())
    if source_id == "bdpm":  # cp1252, CRLF, like the real files
        return f"6000000{len(spec.mirror_name)}\tPommade à l'{spec.mirror_name}\r\n".encode(
            "cp1252"
        )
    return f"cdmTableName,cdmFieldName\nperson,{spec.mirror_name}\n".encode()


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    for source in PUBLIC_SOURCES:
        for spec in source.files:
            path = root / mirror_relative_path(spec, source.id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_payload(source.id, spec))
    return root


def _record(dest: Path) -> dict:
    return json.loads((dest / RECORD_NAME).read_text(encoding="utf-8"))


def _by_origin(record: dict) -> dict[str, dict]:
    return {entry["origin"]: entry for entry in record["files"]}


def test_fetch_reproduces_reference_layout(tmp_path: Path, mirror: Path) -> None:
    dest = tmp_path / "fetched"
    fetch_sources(dest, mirror=mirror.as_uri())

    assert (dest / "schema-snds/schemas/DCIR/ER_PRS_F.json").read_bytes() == SCHEMA_JSON
    assert (dest / "schema-snds/schemas/BENEFICIAIRE/IR_BEN_R.json").read_bytes() == BEN_JSON
    csv = dest / "schema-snds/nomenclatures/ORAVAL/IR_NAT_V.csv"
    assert csv.read_bytes() == NOMENCLATURE_CSV
    assert (dest / "schema-snds/LICENSE").exists()
    assert not list(dest.rglob("README.md"))
    assert (dest / "bdpm/CIS_CIP_bdpm.txt").read_bytes() == (
        mirror / "bdpm/CIS_CIP_bdpm.txt"
    ).read_bytes()
    ngap = dest / "nomensland/ngap_norme_b2_code_prestation.json.gz"
    assert json.loads(gzip.decompress(ngap.read_bytes())) == [
        {"code": "norme_b2_code_prestation.json.gz"}
    ]
    assert (dest / "omop/cdm-5.4/OMOP_CDMv5.4_Field_Level.csv").exists()
    vocab = dest / "omop/vocab-sample"
    assert sorted(p.name for p in vocab.iterdir()) == sorted(VOCAB)  # PERSON.csv not kept
    assert (vocab / "CONCEPT.csv").read_bytes() == VOCAB["CONCEPT.csv"]
    leftovers = [p.name for p in dest.rglob(".*")]
    assert leftovers == [], leftovers


def test_record_hashes_match_mirror_bytes(tmp_path: Path, mirror: Path) -> None:
    dest = tmp_path / "fetched"
    report = fetch_sources(dest, mirror=mirror.as_uri() + "/")
    record = _record(dest)
    expected = [(s.id, f) for s in PUBLIC_SOURCES for f in s.files]
    assert len(record["files"]) == len(expected) == len(report.files)
    for entry, (source_id, spec) in zip(record["files"], expected, strict=True):
        data = (mirror / source_id / spec.mirror_name).read_bytes()
        assert entry["source"] == source_id
        assert entry["origin"] == spec.url
        assert entry["url"] == f"{mirror.as_uri()}/{source_id}/{spec.mirror_name}"
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
        fetched_at = datetime.fromisoformat(entry["fetched_at"])
        assert fetched_at.utcoffset() == timedelta(0)
        for destination in entry["destinations"]:
            assert (dest / destination).is_file()
    assert report.record_path == dest / RECORD_NAME
    assert report.total_bytes == sum(e["bytes"] for e in record["files"])
    schema_entry = _by_origin(record)[get_source("schema-snds").files[0].url]
    assert "schema-snds/schemas/DCIR/ER_PRS_F.json" in schema_entry["destinations"]


def test_progress_reports_every_byte(tmp_path: Path, mirror: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    fetch_sources(
        tmp_path / "out", mirror=mirror, only=["omop-cdm"], progress=lambda *a: calls.append(a)
    )
    for spec in get_source("omop-cdm").files:
        size = (mirror / "omop-cdm" / spec.mirror_name).stat().st_size
        mine = [c for c in calls if c[0] == f"omop-cdm: {spec.mirror_name}"]
        assert mine[0][1] == 0
        assert sum(c[1] for c in mine) == size
        assert {c[2] for c in mine} == {size}


def test_only_fetches_one_source_and_merges_record(tmp_path: Path, mirror: Path) -> None:
    dest = tmp_path / "fetched"
    fetch_sources(dest, mirror=mirror.as_uri(), only=["nomensland"])
    first = _by_origin(_record(dest))
    assert {e["source"] for e in first.values()} == {"nomensland"}
    assert not (dest / "bdpm").exists()

    cis = mirror / "bdpm/CIS_bdpm.txt"
    cis.write_bytes(b"60000001\tNouvelle version\r\n")
    report = fetch_sources(dest, mirror=mirror.as_uri(), only=["bdpm", "bdpm"])
    assert {f.source for f in report.files} == {"bdpm"}
    assert len(report.files) == 5
    merged = _by_origin(_record(dest))
    assert {e["source"] for e in merged.values()} == {"nomensland", "bdpm"}
    for origin, entry in first.items():
        assert merged[origin] == entry  # untouched, fetched_at included
    bdpm_url = get_source("bdpm").files[0].url
    assert merged[bdpm_url]["sha256"] == hashlib.sha256(cis.read_bytes()).hexdigest()
    assert (dest / "bdpm/CIS_bdpm.txt").read_bytes() == cis.read_bytes()


def test_missing_mirror_file_fails_and_keeps_previous_files(tmp_path: Path, mirror: Path) -> None:
    dest = tmp_path / "fetched"
    fetch_sources(dest, mirror=mirror.as_uri(), only=["bdpm", "nomensland"])
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file() and p.name != RECORD_NAME}
    cpd_entry = _by_origin(_record(dest))[get_source("bdpm").files[-1].url]

    (mirror / "bdpm/CIS_CPD_bdpm.txt").unlink()
    (mirror / "bdpm/CIS_bdpm.txt").write_bytes(b"changed\r\n")
    with pytest.raises(SndskitError) as error:
        fetch_sources(dest, mirror=mirror.as_uri(), only=["bdpm"])
    message = str(error.value)
    assert f"{mirror.as_uri()}/bdpm/CIS_CPD_bdpm.txt" in message
    assert "bdpm" in message.split(mirror.as_uri())[0]

    assert (dest / "bdpm/CIS_CPD_bdpm.txt").read_bytes() == before[dest / "bdpm/CIS_CPD_bdpm.txt"]
    for path, data in before.items():
        if path.name != "CIS_bdpm.txt":  # fetched successfully before the failure
            assert path.read_bytes() == data, path
    record = _by_origin(_record(dest))
    assert record[get_source("bdpm").files[-1].url] == cpd_entry
    assert (
        record[get_source("bdpm").files[0].url]["sha256"]
        == hashlib.sha256(b"changed\r\n").hexdigest()
    )
    assert [p.name for p in dest.rglob(".*")] == []


@pytest.mark.parametrize(
    "bad_member",
    ["schema-snds-master/schemas/../../../evil.json", "../evil.json", "/tmp/evil.json"],
)
def test_archive_member_escaping_destination_is_rejected(
    tmp_path: Path, mirror: Path, bad_member: str
) -> None:
    dest = tmp_path / "fetched"
    fetch_sources(dest, mirror=mirror.as_uri(), only=["schema-snds"])
    archive = mirror / "schema-snds/schema-snds-master.tar.gz"
    schemas = {**SCHEMA_TAR, "schema-snds-master/schemas/DCIR/ER_PRS_F.json": b"{}"}
    archive.write_bytes(_tar_gz({**schemas, bad_member: b"pwned"}))

    with pytest.raises(SndskitError, match="escapes the destination") as error:
        fetch_sources(dest, mirror=mirror.as_uri(), only=["schema-snds"])
    assert "schema-snds" in str(error.value)
    assert not list(tmp_path.rglob("evil.json"))
    assert (dest / "schema-snds/schemas/DCIR/ER_PRS_F.json").read_bytes() == SCHEMA_JSON


def test_archive_without_expected_members_fails(tmp_path: Path, mirror: Path) -> None:
    (mirror / "omop-vocab-sample/Synthea27Nj_5.4.zip").write_bytes(
        _zip({"CONCEPT.csv": VOCAB["CONCEPT.csv"]})
    )
    with pytest.raises(SndskitError, match=r"CONCEPT_RELATIONSHIP\.csv"):
        fetch_sources(tmp_path / "out", mirror=mirror, only=["omop-vocab-sample"])
    assert not (tmp_path / "out/omop").exists()


def test_unknown_source_lists_allowed_ids(tmp_path: Path, mirror: Path) -> None:
    with pytest.raises(SndskitError) as error:
        get_source("cim10")
    assert error.value.allowed == [s.id for s in PUBLIC_SOURCES]
    with pytest.raises(SndskitError, match="omop-vocab-sample") as error:
        fetch_sources(tmp_path / "out", mirror=mirror, only=["bdpm", "cim10"])
    assert "cim10" in str(error.value)
    assert not (tmp_path / "out" / RECORD_NAME).exists()


def test_mirror_relative_path() -> None:
    bdpm = get_source("bdpm").files[1]
    assert bdpm.url.endswith("?fichier=CIS_CIP_bdpm.txt")
    assert mirror_relative_path(bdpm) == "bdpm/CIS_CIP_bdpm.txt"
    schema = get_source("schema-snds").files[0]
    assert mirror_relative_path(schema) == "schema-snds/schema-snds-master.tar.gz"
    with pytest.raises(SndskitError):
        mirror_relative_path(RemoteFile(url="https://example.org/x.csv", dest="x.csv"))


def test_registry_rejects_unsafe_or_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        RemoteFile(url="https://example.org/x.csv", dest="../x.csv")
    with pytest.raises(ValidationError):
        RemoteFile(url="https://example.org/x.csv", dest="x.csv", checksum="abc")
    with pytest.raises(ValidationError):
        get_source("bdpm").files[0].dest = "elsewhere.txt"  # type: ignore[misc]


@pytest.mark.shared_data
def test_registry_covers_shared_data_layout() -> None:
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not (shared / "schema-snds" / "schemas").is_dir():
        pytest.skip("../shared/data is not available")
    declared = set()
    for source in PUBLIC_SOURCES:
        for spec in source.files:
            if spec.dest:
                declared.add(spec.dest)
            for rule in spec.extract:
                declared.update(f"{rule.dest}/{name}" for name in rule.names if rule.required)
    patterns = (
        "nomensland/*.json.gz",
        "bdpm/*.txt",
        "omop/cdm-5.4/*.csv",
        "omop/vocab-sample/*.csv",
    )
    present = {p.relative_to(shared).as_posix() for pat in patterns for p in shared.glob(pat)}
    assert present == declared


def test_refetch_replaces_archive_folders(tmp_path: Path, mirror: Path) -> None:
    dest = tmp_path / "fetched"
    fetch_sources(dest, mirror=mirror, only=["schema-snds"])
    smaller = {k: v for k, v in SCHEMA_TAR.items() if "IR_BEN_R" not in k}
    (mirror / "schema-snds/schema-snds-master.tar.gz").write_bytes(_tar_gz(smaller))
    fetch_sources(dest, mirror=mirror, only=["schema-snds"])
    assert not (dest / "schema-snds/schemas/BENEFICIAIRE").exists()  # removed upstream
    assert (dest / "schema-snds/schemas/DCIR/ER_PRS_F.json").read_bytes() == SCHEMA_JSON
    assert [p.name for p in dest.rglob(".*")] == []
