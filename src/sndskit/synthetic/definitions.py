"""Typed models of the generator's data files (``resources/synthetic``), loaded once.

Every file is validated with ``extra="forbid"``: a typo in a data file is an error naming
the file and the field, not a silently ignored parameter.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sndskit.errors import SndskitError

# lower bounds of the age bands of the disease modules' epidemiology
MODULE_AGE_BANDS = (0, 20, 40, 50, 60, 70, 80, 90)

Weighted = list[tuple[str, float]]  # [[code, weight], …]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    title: str
    url: str
    used_for: str
    id: str | None = None


class BySex(_Model):
    male: tuple[float, ...]
    female: tuple[float, ...]

    def check_length(self, n: int, what: str) -> None:
        if len(self.male) != n or len(self.female) != n:
            raise ValueError(f"{what}: expected {n} values per sex")


class StayVariant(_Model):
    id: str = ""
    weight: float = 1.0
    dp: Weighted | Literal["from_diagnosis"]
    ghm: Weighted
    ccam: Weighted = []  # [[act, probability]]
    los: tuple[int, int, int]  # min, mode, max (days)
    death: float = Field(0.0, ge=0, le=1)
    private_share: float = Field(0.2, ge=0, le=1)
    min_age: int = 0
    max_age: int = 200


class IndexStay(_Model):
    probability: float = Field(ge=0, le=1)
    entry_emergency: float = Field(0.5, ge=0, le=1)
    variants: list[StayVariant]


class FollowUpStays(_Model):
    rate: float = Field(ge=0)  # per person-year
    event: bool = False  # a new acute event (recorded as such in truth)
    variants: list[StayVariant] | Literal["same_as_index"]


class Sessions(_Model):
    probability: float = Field(ge=0, le=1)
    count: tuple[int, int]
    start_delay_days: tuple[int, int]
    interval_days: int
    dp: Weighted
    dr_from_diagnosis: bool = True
    ghm: Weighted


class DrugDefinition(_Model):
    """A drug dispensed in town pharmacy (ER_PHA_F), resolved to CIP13 boxes at run time."""

    id: str
    substances: tuple[str, ...]  # every active substance of the product (accent-free match)
    atc: str
    label_filter: tuple[str, ...] = ()  # the box label must contain one of these
    injectable: bool = False  # otherwise injectable and infusion forms are left out
    group: str | None = None  # at most one drug of a group per person
    probability: float = Field(1.0, ge=0, le=1)
    start_delay_days: tuple[int, int] = (0, 30)
    duration_days: tuple[int, int] | None = None  # None: chronic
    stop_per_year: float = Field(0.0, ge=0)
    units_per_day: float = Field(1.0, gt=0)
    supply_factor: float = Field(1.0, gt=0)
    large_pack_share: float = Field(0.0, ge=0, le=1)
    price: float = 3.0
    nature: int = 3313  # PRS_NAT_REF (PH7 65 % by default)
    weight: float = 1.0  # acute drugs: relative frequency
    prevalence: BySex | None = None  # background chronic drugs


class HospitalDrug(_Model):
    """A hospital-only drug (UCD), given in sessions."""

    id: str
    substances: tuple[str, ...]
    atc: tuple[str, ...]
    probability: float = Field(ge=0, le=1)
    count: tuple[int, int]
    start_delay_days: tuple[int, int]
    interval_days: int
    units: tuple[int, int] = (1, 1)
    private_share: float = Field(ge=0, le=1)
    price: float = 100.0


class Ald(_Model):
    number: int
    probability: float = Field(ge=0, le=1)
    delay_days: tuple[int, int]
    open_ended: float = Field(ge=0, le=1)
    duration_years: tuple[int, int]
    codes: Weighted | None = None  # default: the module's diagnosis codes


class Mortality(_Model):
    excess_annual: float = Field(ge=0, le=1)
    cause: Weighted


class Epidemiology(_Model):
    prevalence: BySex
    incidence: BySex
    prevalent_onset_years: tuple[float, float]
    min_age: int = 0
    episode_days: tuple[int, int] | None = None  # conditions that end (depression)

    @field_validator("prevalence", "incidence")
    @classmethod
    def _eight_bands(cls, value: BySex) -> BySex:
        value.check_length(len(MODULE_AGE_BANDS), "rates by age band")
        return value


class Rehabilitation(_Model):
    """An SSR (soins de suite et de réadaptation) stay after the index MCO stay."""

    probability: float = Field(ge=0, le=1)
    los: tuple[int, int, int]  # min, mode, max (days)
    mmp: Weighted  # morbidité principale (MOR_PRP); the aetiology (ETL_AFF) is the diagnosis
    private_share: float = Field(0.3, ge=0, le=1)


class ModuleDefinition(_Model):
    id: str
    label: str
    sources: list[Source]
    epidemiology: Epidemiology
    diagnosis: Weighted
    ald: Ald | None = None
    das_probability: float = Field(0.0, ge=0, le=1)
    index_stay: IndexStay | None = None
    follow_up_stays: FollowUpStays | None = None
    sessions: Sessions | None = None
    hospital_drug: HospitalDrug | None = None
    rehabilitation: Rehabilitation | None = None
    drugs: list[DrugDefinition] = []
    biology: Weighted = []  # [[NABM, mean per year]]
    specialist_visits: list[tuple[int, float]] = []  # [[IR_SPE_V, mean per year]]
    outpatient_acts: Weighted = []  # [[CCAM, mean per year]]
    extra_gp_visits: float = 0.0
    mortality: Mortality


class Comorbidity(_Model):
    code: str
    probability: tuple[float, ...]


class StayRates(_Model):
    rate: BySex
    childbirth: dict[str, float]
    variants: list[StayVariant]
    childbirth_variant: StayVariant
    comorbidities: list[Comorbidity]


class CareDefinition(_Model):
    sources: list[Source]
    age_bands: tuple[int, ...]
    visits: dict[str, Any]
    extra_drugs_per_visit: float
    extra_acts_per_biology: float
    frailty_shape: float
    non_consumer_share: float
    specialist_specialties: list[tuple[int, float]]
    acute_drugs: list[DrugDefinition]
    background_chronic: list[DrugDefinition]
    biology_codes: Weighted
    imaging_acts: Weighted
    mammography: dict[str, float | str]
    stays: StayRates
    hospitals: dict[str, int]


class Scheme(_Model):
    name: str
    weight: float
    flx_emt_typ: int
    rgm_grg_cod: int


class PopulationDefinition(_Model):
    sources: list[Source]
    pyramid: BySex
    mortality: dict[str, Any]
    schemes: list[Scheme]
    flux_emitters: dict[int, list[int]]
    departments: dict[str, float]
    duplicate_institution_areas: dict[str, list[str]]
    background_causes: Weighted
    non_ald_exonerations: dict[int, Weighted]
    c2s_share: list[tuple[int, float]]


class FinessSite(_Model):
    eta_num: str
    institution: str
    legal_eta_num: str
    mco_first_year: int | None
    mco_last_year: int | None
    in_list_46: bool
    in_list_166: bool


def _resource(*parts: str) -> Path:
    return Path(str(resources.files("sndskit").joinpath("resources", "synthetic", *parts)))


def _load_yaml(path: Path, model: type[BaseModel]) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise SndskitError(err["msg"], file=path, field=field) from None


@cache
def population_definition() -> PopulationDefinition:
    return _load_yaml(_resource("population.yaml"), PopulationDefinition)


@cache
def care_definition() -> CareDefinition:
    return _load_yaml(_resource("care.yaml"), CareDefinition)


@cache
def module_definition(module_id: str) -> ModuleDefinition:
    path = _resource("modules", f"{module_id}.yaml")
    if not path.exists():
        raise SndskitError(f"no definition file for module '{module_id}'", file=path)
    definition = _load_yaml(path, ModuleDefinition)
    if definition.id != module_id:
        raise SndskitError(f"id '{definition.id}' differs from the file name", file=path)
    return definition


@cache
def finess_sites() -> tuple[FinessSite, ...]:
    shared = resources.files("sndskit").joinpath("resources", "snds", "finess_duplicates.csv")
    with shared.open(encoding="utf-8") as handle:  # the same lists as the cohort filters
        return tuple(
            FinessSite(
                eta_num=row["eta_num"],
                institution=row["institution"],
                legal_eta_num=row["legal_eta_num"],
                mco_first_year=int(row["mco_first_year"]) if row["mco_first_year"] else None,
                mco_last_year=int(row["mco_last_year"]) if row["mco_last_year"] else None,
                in_list_46=row["in_list_46"] == "1",
                in_list_166=row["in_list_166"] == "1",
            )
            for row in csv.DictReader(handle)
        )


def finess_duplicate_list(which: Literal[46, 166]) -> list[str]:
    """The geographic FINESS to exclude (46 codes from sndsTools, 166 from documentation-snds).

    >>> len(finess_duplicate_list(46)), len(finess_duplicate_list(166))
    (46, 166)
    """
    flag = "in_list_46" if which == 46 else "in_list_166"
    return [site.eta_num for site in finess_sites() if getattr(site, flag)]


@cache
def error_ghms() -> tuple[str, ...]:
    with _resource("error_ghm.csv").open(encoding="utf-8") as handle:
        return tuple(row["grg_ghm"] for row in csv.DictReader(handle))


@cache
def trap_descriptions_fr() -> dict[str, str]:
    """French meaning of each trap rate and layout option (``traps_fr.yaml``)."""
    data = yaml.safe_load(_resource("traps_fr.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


@cache
def fallback_rows(name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``drugs_fallback.csv`` or ``ucd_fallback.csv``."""
    with _resource(name).open(encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))
