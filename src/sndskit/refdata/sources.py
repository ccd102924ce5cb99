"""Registry of the public reference sources that ``sndskit data fetch`` downloads.

Each source is plain data: its origin URLs, its licence, and where every file (or every
part of an archive) lands in the fetched folder. The destinations reproduce the layout
of the reference folder the importer reads::

    schema-snds/schemas/…   schema-snds/nomenclatures/…   nomensland/*.json.gz
    bdpm/CIS_*.txt          omop/cdm-5.4/*.csv            omop/vocab-sample/*.csv

>>> [s.id for s in PUBLIC_SOURCES]
['schema-snds', 'nomensland', 'bdpm', 'omop-cdm', 'omop-vocab-sample']
>>> get_source("bdpm").files[0].dest
'bdpm/CIS_bdpm.txt'
>>> get_source("bdpm").files[0].mirror_name
'CIS_bdpm.txt'
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sndskit.errors import SndskitError


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _relative(value: str, what: str) -> str:
    path = PurePosixPath(value)
    if not value or "\\" in value or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{what} {value!r} must be a relative POSIX path without '..'")
    if str(path) != value.rstrip("/"):
        raise ValueError(f"{what} {value!r} is not normalised (expected {str(path)!r})")
    return value


class ExtractRule(_Frozen):
    """Which archive members to extract, and where (relative to the fetched folder).

    - ``member`` ending with ``/`` and no ``names``: the whole folder goes to the folder
      ``dest`` (``a/b/c.json`` under ``member="a/"`` lands at ``dest + "/b/c.json"``); the
      destination folder is replaced as a whole, so files removed upstream disappear.
    - ``member`` without a trailing ``/``: that single member goes to the file ``dest``.
    - ``names``: only members whose file name matches one of them (case-insensitive), at
      any depth under ``member`` (``""`` = whole archive), land at ``dest/<name>``.

    ``required`` rules that match nothing make the fetch fail (the archive layout changed).
    """

    member: str = ""
    dest: str
    names: tuple[str, ...] = ()
    required: bool = True

    @model_validator(mode="after")
    def _check(self) -> ExtractRule:
        _relative(self.dest, "destination")
        if self.member:
            _relative(self.member, "archive member")
        if self.names:
            if self.member and not self.member.endswith("/"):
                raise ValueError("a rule with names needs a folder member (ending with '/')")
            for name in self.names:
                if "/" in name or name in ("", ".", ".."):
                    raise ValueError(f"name {name!r} must be a plain file name")
        elif not self.member:
            raise ValueError("a rule needs a member or names")
        return self

    @property
    def is_folder(self) -> bool:
        return not self.names and self.member.endswith("/")


class RemoteFile(_Frozen):
    """One downloadable file: a plain file saved at ``dest``, or an archive to extract."""

    url: str
    kind: Literal["file", "tar.gz", "zip"] = "file"
    dest: str | None = None
    extract: tuple[ExtractRule, ...] = ()
    encoding: str | None = None
    note: str | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"origin {url!r} must be an http(s) URL")
        return url

    @model_validator(mode="after")
    def _check(self) -> RemoteFile:
        if self.kind == "file":
            if self.dest is None or self.extract:
                raise ValueError(f"{self.url}: a plain file needs dest and no extract rules")
            _relative(self.dest, "destination")
        elif self.dest is not None or not self.extract:
            raise ValueError(f"{self.url}: an archive needs extract rules and no dest")
        name = self.mirror_name
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError(f"{self.url}: no usable file name for the mirror ({name!r})")
        return self

    @property
    def mirror_name(self) -> str:
        """File name in a mirror: the ``fichier`` query value, else the URL path's last part."""
        parts = urlsplit(self.url)
        fichier = parse_qs(parts.query).get("fichier")
        return fichier[0] if fichier else PurePosixPath(unquote(parts.path)).name


class Source(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    title: str
    licence: str
    homepage: str
    files: tuple[RemoteFile, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_mirror_names(self) -> Source:
        names = [f.mirror_name for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"source {self.id}: two files share a mirror name: {names}")
        return self


_NOMENSLAND = "https://raw.githubusercontent.com/GuillaumePressiat/nomensland/master/inst/tables"
_NOMENSLAND_TABLES = (
    "ccam_actes",
    "ccam_hierarchie_actes",
    "ccam_regroupement",
    "csarr_code",
    "csarr_hier",
    "ghm_ghm_regroupement",
    "lpp_fiche",
    "mco_medref_atih_historique_liste_ucd",
    "orpha",
    "ucd_tot_table",
)
# ANSM download endpoint. Recent public code uses ``/download/file/<name>`` on the same host:
# the mirror name is the same either way, so switching only means editing this constant.
_BDPM = "https://base-donnees-publique.medicaments.gouv.fr/telechargement.php?fichier="
_BDPM_FILES = ("CIS_bdpm", "CIS_CIP_bdpm", "CIS_COMPO_bdpm", "CIS_GENER_bdpm", "CIS_CPD_bdpm")
_CDM = "https://raw.githubusercontent.com/OHDSI/CommonDataModel/main/inst/csv"
_VOCAB_TABLES = (
    "CONCEPT",
    "CONCEPT_RELATIONSHIP",
    "CONCEPT_CLASS",
    "DOMAIN",
    "RELATIONSHIP",
    "VOCABULARY",
)

PUBLIC_SOURCES: tuple[Source, ...] = (
    Source(
        id="schema-snds",
        title="SNDS table schemas and nomenclatures (Health Data Hub, schema-snds)",
        licence="MPL-2.0",
        homepage="https://gitlab.com/healthdatahub/schema-snds",
        files=(
            RemoteFile(
                url="https://gitlab.com/healthdatahub/schema-snds/-/archive/master/"
                "schema-snds-master.tar.gz",
                kind="tar.gz",
                extract=(
                    ExtractRule(member="schema-snds-master/schemas/", dest="schema-snds/schemas"),
                    ExtractRule(
                        member="schema-snds-master/nomenclatures/",
                        dest="schema-snds/nomenclatures",
                    ),
                    ExtractRule(
                        member="schema-snds-master/LICENSE",
                        dest="schema-snds/LICENSE",
                        required=False,
                    ),
                ),
                encoding="utf-8",
                note="schemas: Table Schema JSON; nomenclatures: ';'-separated CSV + JSON",
            ),
        ),
    ),
    Source(
        id="nomensland",
        title="PMSI nomenclatures from the R package nomensland (G. Pressiat)",
        licence="Unlicense (public domain)",
        homepage="https://github.com/GuillaumePressiat/nomensland",
        files=(
            *(
                RemoteFile(url=f"{_NOMENSLAND}/{table}.json.gz", dest=f"nomensland/{table}.json.gz")
                for table in _NOMENSLAND_TABLES
            ),
            # Upstream name has no "ngap_" prefix; the reference folder names it this way.
            RemoteFile(
                url=f"{_NOMENSLAND}/norme_b2_code_prestation.json.gz",
                dest="nomensland/ngap_norme_b2_code_prestation.json.gz",
            ),
        ),
    ),
    Source(
        id="bdpm",
        title="Base de données publique des médicaments (ANSM)",
        licence="Licence Ouverte / Etalab 2.0",
        homepage="https://base-donnees-publique.medicaments.gouv.fr/",
        files=tuple(
            RemoteFile(
                url=f"{_BDPM}{name}.txt",
                dest=f"bdpm/{name}.txt",
                encoding="cp1252",
                note="tab-separated, no header, CRLF or LF line ends",
            )
            for name in _BDPM_FILES
        ),
    ),
    Source(
        id="omop-cdm",
        title="OMOP CDM v5.4 table and field specifications (OHDSI CommonDataModel)",
        licence="Apache-2.0",
        homepage="https://github.com/OHDSI/CommonDataModel",
        files=tuple(
            RemoteFile(
                url=f"{_CDM}/OMOP_CDMv5.4_{level}_Level.csv",
                dest=f"omop/cdm-5.4/OMOP_CDMv5.4_{level}_Level.csv",
                encoding="utf-8",
            )
            for level in ("Field", "Table")
        ),
    ),
    Source(
        id="omop-vocab-sample",
        title="Small OMOP vocabulary extract (OHDSI EunomiaDatasets, Synthea27Nj 5.4)",
        licence="Apache-2.0",
        homepage="https://github.com/OHDSI/EunomiaDatasets",
        files=(
            RemoteFile(
                # github.com/…/raw/… (not raw.githubusercontent.com) also resolves Git LFS files.
                url="https://github.com/OHDSI/EunomiaDatasets/raw/main/datasets/Synthea27Nj/"
                "Synthea27Nj_5.4.zip",
                kind="zip",
                extract=(
                    ExtractRule(
                        dest="omop/vocab-sample",
                        names=tuple(f"{table}.csv" for table in _VOCAB_TABLES),
                    ),
                    ExtractRule(
                        dest="omop/vocab-sample",
                        names=("CONCEPT_ANCESTOR.csv", "CONCEPT_SYNONYM.csv"),
                        required=False,
                    ),
                ),
                encoding="utf-8",
                note="comma-separated, Athena column layout; the clinical tables are not kept",
            ),
        ),
    ),
)


def source_ids() -> list[str]:
    return [s.id for s in PUBLIC_SOURCES]


def get_source(source_id: str) -> Source:
    """Return the registered source ``source_id``.

    >>> get_source("omop-cdm").licence
    'Apache-2.0'
    >>> get_source("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sndskit.errors.SndskitError: unknown source 'nope' (allowed: schema-snds, nomensland, ...)
    """
    for source in PUBLIC_SOURCES:
        if source.id == source_id:
            return source
    raise SndskitError(f"unknown source '{source_id}'", allowed=source_ids())
