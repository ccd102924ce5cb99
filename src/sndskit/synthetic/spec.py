"""Generator configuration: every parameter of a synthetic run, validated and recorded.

The configuration is the only input besides the store: same configuration + same store
content → byte-identical output. Every SNDS trap has its own rate parameter here, with
the unit it is expressed in; ``docs/synthetic.md`` explains how each is planted and how
to find its rows in ``truth/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from sndskit.errors import SndskitError

MODULE_IDS = (
    "t2d",
    "acs",
    "stroke",
    "heart_failure",
    "copd",
    "breast_cancer",
    "depression",
)
MAX_AUTO_PARTS = 16
MAX_CHUNKS = 10_000  # FLX_EMT_ORD (4 digits) and RSA_NUM (10 digits) carry the chunk number
FIRST_YEAR = 2006  # DCIR ↔ PMSI linkage through the pseudonym works from 2006
LAST_YEAR = 2035
ARCHIVE_YEAR = 2013  # IR_BEN_R_ARC: beneficiaries without care since 2013


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrapRates(_Strict):
    """Rate of each planted SNDS trap (probabilities in [0, 1]; unit in each description)."""

    # -- DCIR --------------------------------------------------------------------------
    regularisation: float = Field(
        0.02,
        ge=0,
        le=1,
        description="per true drug line: an erroneous duplicate billed, then cancelled by a "
        "line with negative quantity (PHA_ACT_QSN < 0, PRS_ACT_QTE < 0)",
    )
    cancelled_dispensing: float = Field(
        0.005,
        ge=0,
        le=1,
        description="per true drug line: a spurious dispensing of a disease-module drug to "
        "a random person, cancelled later (quantities sum to 0)",
    )
    information_line: float = Field(
        0.03,
        ge=0,
        le=1,
        description="per town consultation/biology/act line: a hospital outpatient line sent "
        "for information (DPN_QLF = PRS_DPN_QLP = 71)",
    )
    ete_ind_taa: float = Field(
        0.3,
        ge=0,
        le=1,
        description="per public-hospital stay: its billing echoed in DCIR with "
        "ER_ETE_F.ETE_IND_TAA = 1 (activity already in PMSI)",
    )
    flat_fee: float = Field(
        0.3,
        ge=0,
        le=1,
        description="per consultation: a participation forfaitaire line (BSE_PRS_NAT = 0, "
        "CPL_AFF_COD = 16) with the consultation as PRS_NAT_REF",
    )
    majoration: float = Field(
        0.1,
        ge=0,
        le=1,
        description="per consultation: a majoration line (CPL_MAJ_TOP = 2) with the "
        "consultation as PRS_NAT_REF",
    )
    franchise: float = Field(
        0.2,
        ge=0,
        le=1,
        description="per pharmacy line: a franchise line (BSE_PRS_NAT = 0) with the "
        "pharmacy nature as PRS_NAT_REF and no ER_PHA_F detail",
    )
    late_flux: float = Field(
        0.01,
        ge=0,
        le=0.5,
        description="per DCIR décompte: probability that it arrives more than 6 months after "
        "the care month (the 99 %-within-6-months rule); spread over months 7-27",
    )
    missing_date: float = Field(
        0.01,
        ge=0,
        le=1,
        description="per ER_PRS_F line: EXE_SOI_DTF (and PRE_PRE_DTD when prescribed) coded "
        "1600-01-01 instead of the real date",
    )
    cip7_only: float = Field(
        0.7,
        ge=0,
        le=1,
        description="per ER_PHA_F line with care year <= cip7_only_until_year: only the CIP7 "
        "(PHA_PRS_IDE) is filled, PHA_PRS_C13 is null",
    )
    # -- persons -----------------------------------------------------------------------
    fictitious_nir: float = Field(
        0.003,
        ge=0,
        le=0.2,
        description="per person: a fictitious identity (BEN_CDI_NIR in 01, 05, 06, 08, 11) "
        "that is not a real person",
    )
    twins: float = Field(
        0.01,
        ge=0,
        le=0.2,
        description="per person under 20: probability of being one of a same-sex twin pair "
        "sharing BEN_NIR_PSA (told apart by BEN_RNG_GEM 1 and 2) and the PMSI pseudonym "
        "NIR_ANO_17",
    )
    multiple_nir: float = Field(
        0.03,
        ge=0,
        le=0.5,
        description="per person: a second BEN_NIR_PSA (child on both parents, or provisional "
        "NIR BEN_CDI_NIR 03/04 replaced by the definitive one)",
    )
    unknown_nir_ano: float = Field(
        0.02,
        ge=0,
        le=0.5,
        description="per single-identity person: BEN_NIR_ANO unknown, BEN_IDT_ANO = "
        "BEN_NIR_PSA || BEN_RNG_GEM",
    )
    ald_not_ald: float = Field(
        0.003,
        ge=0,
        le=0.2,
        description="per person: an IR_IMB_R exoneration that is not an ALD "
        "(IMB_ETM_NAT 11, 12 or 13: work accident, occupational disease, invalidity)",
    )
    ald_other_exonerating: float = Field(
        0.1,
        ge=0,
        le=1,
        description="per disease-module ALD registration: registered under the other "
        "exonerating motives, IMB_ETM_NAT 43 (off-list condition) or 45 (polypathology), "
        "IMB_ALD_NUM 99, instead of 41",
    )
    ald_non_exonerating: float = Field(
        0.1,
        ge=0,
        le=1,
        description="per disease-module case without an ALD: an IR_IMB_R row with the "
        "condition's code under a non-exonerating motive (IMB_ETM_NAT 47, 55 or 21)",
    )
    ald_end_null: float = Field(
        0.3,
        ge=0,
        le=1,
        description="per open-ended ALD registration: IMB_ALD_DTF NULL instead of 1600-01-01",
    )
    death_not_in_ir_ben_r: float = Field(
        0.05,
        ge=0,
        le=1,
        description="per death: IR_BEN_R.BEN_DCD_DTE (and the DCIR copy) left at 1600-01-01; "
        "the death is still in KI_CCI_R (only there when out of hospital)",
    )
    death_only_in_pmsi: float = Field(
        0.2,
        ge=0,
        le=1,
        description="per in-hospital death: neither BEN_DCD_DTE nor KI_CCI_R, only the "
        "stay's SOR_MOD = 9",
    )
    archive_cancellation: float = Field(
        0.05,
        ge=0,
        le=1,
        description="per true drug line of January-November 2012: an erroneous duplicate "
        "in a 2012 flux (archive table ER_PHA_F_2012) cancelled in a 2013 flux (ER_PHA_F)",
    )
    private_act_in_dcir: float = Field(
        0.9,
        ge=0,
        le=1,
        description="per CCAM act of a private-clinic stay: also billed in DCIR (ER_CAM_F) "
        "on the act date, stay entry + ENT_DAT_DEL (one act, two sources)",
    )
    # -- PMSI --------------------------------------------------------------------------
    duplicate_institution_share: float = Field(
        0.35,
        ge=0,
        le=1,
        description="per stay of a resident of the AP-HP, AP-HM or HCL areas: probability "
        "that it takes place there; such stays are transmitted twice (legal and geographic "
        "FINESS) in the years of the source list",
    )
    error_ghm: float = Field(
        0.004,
        ge=0,
        le=0.2,
        description="per true stay: an extra stay grouped in an error GHM (CMD 90)",
    )
    ret_code: float = Field(
        0.004,
        ge=0,
        le=0.2,
        description="per true stay: an extra stay with a linkage return code *_RET != 0",
    )
    invalid_nir_ano: float = Field(
        0.002,
        ge=0,
        le=0.2,
        description="per true stay: an extra stay with an invalid NIR_ANO_17 placeholder",
    )
    sej_typ_b: float = Field(
        0.003,
        ge=0,
        le=0.2,
        description="per true stay: an inter-establishment service copy (SEJ_TYP = 'B') in "
        "another hospital",
    )
    ret_null: float = Field(
        0.0,
        ge=0,
        le=0.2,
        description="per true stay: an extra stay with one linkage return code NULL "
        "(invalid: only '0' is valid); off by default until the cohort engine treats NULL "
        "as invalid (issue #11), e.g. 0.002",
    )


class GeneratorConfig(_Strict):
    """Parameters of one synthetic SNDS run (recorded in ``truth/manifest.json``)."""

    patients: int = Field(ge=1, le=100_000_000, description="persons in the population")
    start_year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR, description="first care year")
    end_year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR, description="last care year")
    seed: int = Field(0, ge=0, le=2**63 - 1)
    format: Literal["parquet", "csv"] = "parquet"
    modules: tuple[Literal[MODULE_IDS], ...] = MODULE_IDS  # type: ignore[valid-type]
    traps: TrapRates = TrapRates()
    chunk_size: int = Field(
        10_000, ge=100, le=200_000, description="persons generated together (memory bound)"
    )
    part_size: int | None = Field(
        None,
        ge=100,
        le=10_000_000,
        description="persons per output file (parts are generated in parallel); default: "
        "the population split in up to 16 parts of whole chunks",
    )
    cip7_only_until_year: int = Field(
        2007,
        ge=1990,
        le=LAST_YEAR,
        description="last care year whose drug lines may carry only the CIP7",
    )
    dcir_archive_before: int | None = Field(
        2013,
        ge=FIRST_YEAR,
        le=LAST_YEAR + 3,
        description="flux years before this one go to archive tables ER_PRS_F_AAAA …; "
        "None writes every flux year to ER_PRS_F",
    )
    dcir_yearly_tables: bool = Field(
        False,
        description="HDH project extract layout: DCIR as one table per flux year "
        "(ER_PRS_F_2019, ER_PHA_F_2020, …) for every year, instead of ER_PRS_F",
    )
    nabm_as_integer: bool = Field(
        False,
        description="write ER_BIO_F.BIO_PRS_IDE as an integer column, as the official "
        "schema types it: NABM codes below 1000 lose their zero padding (0592 → 592)",
    )
    archive_beneficiaries: bool = Field(
        True,
        description="persons without care since 2013 (dead before 2013) are in "
        "IR_BEN_R_ARC only, not in IR_BEN_R",
    )
    finess_duplicates_all_years: bool = Field(
        False,
        description="plant AP-HP/AP-HM/HCL double transmission in every year, not only in "
        "the years of the source list (it ended in 2017) — for training",
    )

    @field_validator("end_year")
    @classmethod
    def _after_start(cls, value: int, info: ValidationInfo) -> int:
        start = info.data.get("start_year")
        if start is not None and value < start:
            raise ValueError(f"end_year ({value}) must not be before start_year ({start})")
        return value

    @field_validator("chunk_size")
    @classmethod
    def _few_chunks(cls, value: int, info: ValidationInfo) -> int:
        patients = info.data.get("patients")
        if patients is not None and -(-patients // value) > MAX_CHUNKS:
            raise ValueError(
                f"{patients} persons make more than {MAX_CHUNKS} chunks of {value}: the chunk "
                "number is the 4-digit flux sequence FLX_EMT_ORD; raise chunk_size"
            )
        return value

    @field_validator("part_size")
    @classmethod
    def _whole_chunks(cls, value: int | None, info: ValidationInfo) -> int | None:
        chunk = info.data.get("chunk_size")
        if value is not None and chunk and value % chunk:
            raise ValueError(f"part_size ({value}) must be a multiple of chunk_size ({chunk})")
        return value

    @field_validator("modules")
    @classmethod
    def _no_repeat(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("modules must not repeat")
        return value

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    @property
    def writes_ben_archive(self) -> bool:
        """Whether IR_BEN_R_ARC is written (its persons died before 2013)."""
        return self.archive_beneficiaries and self.start_year < ARCHIVE_YEAR

    @property
    def dcir_suffixed_before(self) -> int | None:
        """Flux years before this one are written to ``TEMPLATE_AAAA`` tables (None: none).

        The archive tables before ``dcir_archive_before``, or every year with
        ``dcir_yearly_tables`` (HDH project extracts).
        """
        return LAST_YEAR + 10 if self.dcir_yearly_tables else self.dcir_archive_before

    @property
    def effective_part_size(self) -> int:
        """Persons per part: ``part_size``, or whole chunks splitting the population in 16.

        It depends on the parameters only (never on the number of workers), so the files
        are the same whatever the machine.
        """
        if self.part_size is not None:
            return self.part_size
        chunks = -(-self.patients // self.chunk_size)
        return -(-chunks // MAX_AUTO_PARTS) * self.chunk_size


# where the truth of each trap and layout option is written (``DIR/truth/<name>``)
TRAP_TRUTH: dict[str, str] = {
    **dict.fromkeys(
        (
            "regularisation",
            "cancelled_dispensing",
            "information_line",
            "ete_ind_taa",
            "flat_fee",
            "majoration",
            "franchise",
            "late_flux",
            "missing_date",
            "cip7_only",
            "archive_cancellation",
        ),
        "traps_dcir",
    ),
    **dict.fromkeys(("fictitious_nir", "multiple_nir", "unknown_nir_ano"), "traps_persons"),
    "twins": "traps_persons (twin), traps_pmsi (twin_shared_pseudonym)",
    "ald_not_ald": "traps_ald, ald",
    "ald_non_exonerating": "traps_ald, ald",
    "ald_other_exonerating": "ald, ald_in_force",
    "ald_end_null": "ald (end_coding), ald_in_force",
    "death_not_in_ir_ben_r": "deaths",
    "death_only_in_pmsi": "deaths",
    "private_act_in_dcir": "procedures (sources = PMSI+DCIR)",
    **dict.fromkeys(
        (
            "duplicate_institution_share",
            "error_ghm",
            "ret_code",
            "invalid_nir_ano",
            "sej_typ_b",
            "ret_null",
        ),
        "traps_pmsi",
    ),
}
LAYOUT_OPTIONS: dict[str, str] = {
    "dcir_archive_before": "dispensings, biology, procedures (table_name)",
    "dcir_yearly_tables": "dispensings, biology, procedures (table_name)",
    "nabm_as_integer": "biology (code keeps its zero padding)",
    "archive_beneficiaries": "traps_persons (archive_only)",
    "finess_duplicates_all_years": "traps_pmsi",
}


def list_traps(lang: Literal["fr", "en"] = "fr") -> list[dict[str, Any]]:
    """Every trap rate and layout option: parameter, default, kind, truth file, meaning.

    >>> rows = list_traps("en")
    >>> next(r for r in rows if r["parameter"] == "nabm_as_integer")["kind"]
    'layout'
    """
    from sndskit.synthetic.definitions import trap_descriptions_fr

    rows = [
        {
            "parameter": f"traps.{name}",
            "default": field.default,
            "kind": "rate",
            "truth": TRAP_TRUTH[name],
            "meaning": field.description,
        }
        for name, field in TrapRates.model_fields.items()
    ]
    fields = GeneratorConfig.model_fields
    rows += [
        {
            "parameter": name,
            "default": fields[name].default,
            "kind": "layout",
            "truth": truth,
            "meaning": fields[name].description,
        }
        for name, truth in LAYOUT_OPTIONS.items()
    ]
    if lang == "fr":
        french = trap_descriptions_fr()
        for row in rows:
            row["meaning"] = french[row["parameter"]]
    return rows


def _allowed_for(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the (nested) model that holds ``loc[-1]``."""
    current: type[BaseModel] = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current = annotation
        else:
            return None
    return list(current.model_fields)


def build_config(values: dict[str, Any], *, file: str | Path | None = None) -> GeneratorConfig:
    """Validate ``values`` into a :class:`GeneratorConfig`, or raise a clear SndskitError.

    >>> build_config({"patients": 10, "start_year": 2019, "end_year": 2020}).years
    [2019, 2020]
    """
    try:
        return GeneratorConfig.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not isinstance(p, int))
        field = ".".join(str(p) for p in loc) or None
        kind = err["type"]
        allowed: list[str] | None = None
        if kind == "extra_forbidden":
            message = "unknown parameter"
            allowed = _allowed_for(GeneratorConfig, loc)
        elif kind == "literal_error":
            message = f"invalid value {err.get('input')!r}"
            expected = str(err.get("ctx", {}).get("expected", ""))
            allowed = [v.strip().strip("'") for v in expected.replace(" or ", ",").split(",")]
        elif kind == "missing":
            message = "required parameter is missing"
        else:
            message = err["msg"].removeprefix("Value error, ")
            if "input" in err and kind not in ("value_error", "assertion_error"):
                message += f" (got {err['input']!r})"
        raise SndskitError(message, file=file, field=field, allowed=allowed) from None


def load_config_file(path: str | Path, **overrides: Any) -> GeneratorConfig:
    """Read a YAML configuration (any subset of the parameters), then apply ``overrides``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SndskitError("configuration file not found", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SndskitError(f"invalid YAML ({exc})", file=path, line=line) from None
    if not isinstance(data, dict):
        raise SndskitError("expected a mapping of parameters", file=path)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return build_config(data, file=path)
