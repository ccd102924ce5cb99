"""Everything a chunk needs, resolved once per run: plans, codes, hospitals, schemas.

The context holds only plain data (numpy arrays, lists, pydantic models), so it can be
sent to worker processes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from sndskit.catalog import Catalog
from sndskit.synthetic.arrays import day, keyed_hash
from sndskit.synthetic.codes import Choice, CodeBook, StoreView
from sndskit.synthetic.definitions import (
    care_definition,
    error_ghms,
    finess_sites,
    module_definition,
    population_definition,
)
from sndskit.synthetic.plans import BoxTable, CarePlan, ModulePlan, care_plan, module_plan
from sndskit.synthetic.schema import TableSchemas
from sndskit.synthetic.spec import GeneratorConfig

INSTITUTIONS = ("", "AP-HP", "AP-HM", "HCL")
FICTITIOUS_CDI = ("01", "05", "06", "08", "11")
PROVISIONAL_CDI = ("03", "04")
# distribution of the flux lag (months between the care month and FLX_DIS_DTD) within
# 6 months; the late tail (7-27 months) gets the `late_flux` rate
_LAG_HEAD = np.array([0.62, 0.22, 0.08, 0.04, 0.025, 0.015])
MAX_LAG_MONTHS = 27


@dataclass
class Hospitals:
    finess: list[str]
    department: np.ndarray  # index in departments
    public: np.ndarray  # bool
    institution: np.ndarray  # 0 none, 1 AP-HP, 2 AP-HM, 3 HCL
    category: np.ndarray  # ETE_CAT_COD (IR_CET_V)
    by_department_public: list[np.ndarray]
    by_department_private: list[np.ndarray]
    legal: dict[int, int]  # institution → hospital index of the legal entity
    sites: dict[
        int, list[tuple[int, int | None, int | None]]
    ]  # institution → (hospital, first, last)


@dataclass
class PopulationPlan:
    cell_cum: np.ndarray  # cumulative probability of (sex, 5-year band) cells
    cell_sex: np.ndarray
    cell_age: np.ndarray  # lower bound (years)
    departments: list[str]
    department_cum: np.ndarray
    department_institution: np.ndarray  # 0 or institution of the area
    schemes_cum: np.ndarray
    scheme_typ: np.ndarray
    scheme_rgm: np.ndarray
    emitters: list[np.ndarray]  # per scheme
    mortality: np.ndarray  # (2, 2) a, b per sex
    q_min: float
    q_max: float
    background_scale: float
    org_codes: list[list[str]]  # per department
    regions: list[str | None]  # GEO_REG_COD of each department (IR_DPT_V), None if unknown
    c2s_bands: np.ndarray  # lower bounds of the C2S age bands
    c2s_share: np.ndarray


@dataclass
class GenerationContext:
    config: GeneratorConfig
    schemas: TableSchemas
    population: PopulationPlan
    care: CarePlan
    modules: list[ModulePlan]
    boxes: BoxTable
    box_arrays: dict[str, np.ndarray]
    drug_atc_key: np.ndarray  # per drug: index of its ATC code (episodes merge on it)
    hospitals: Hospitals
    icd: list[str]
    ccam: list[str]
    nabm: list[str]
    ghm: list[str]
    ucd: list[str]
    error_ghm: list[int]
    slots: dict[str, int]
    lag_probabilities: np.ndarray  # index = months 0..27
    start: int  # first day of the study period
    end: int  # last day
    background_cause: Choice
    non_ald: dict[int, Choice]  # IMB_ETM_NAT → reasons (IR_CIM_V)
    codes_manifest: dict
    store_source: str

    @property
    def years(self) -> list[int]:
        return self.config.years


@dataclass(frozen=True)
class _ResolvedCodes:
    """Everything resolved from the store for a set of modules (cached per store file)."""

    modules: list[ModulePlan]
    care: CarePlan
    boxes: BoxTable
    population: PopulationPlan
    error_ghm: list[int]
    slots: dict[str, int]
    background_cause: Choice
    non_ald: dict[int, Choice]
    registries: dict[str, list[str]]
    manifest: dict


def build_context(
    config: GeneratorConfig, catalog: Catalog, store_path: Path | None
) -> GenerationContext:
    key = None
    if store_path is not None and Path(store_path).exists():
        stat = Path(store_path).stat()
        key = (str(Path(store_path).resolve()), stat.st_mtime_ns, stat.st_size)
    codes = _resolve_codes(key, str(store_path) if store_path else None, tuple(config.modules))
    atc_codes = sorted(set(codes.boxes.drug_atc))
    schemas = TableSchemas.from_catalog(catalog)
    if config.nabm_as_integer:  # the official schema's type: 0592 is written 592
        schemas = schemas.with_type("ER_BIO_F", "BIO_PRS_IDE", pa.int64())
    return GenerationContext(
        config=config,
        schemas=schemas,
        population=codes.population,
        care=codes.care,
        modules=codes.modules,
        boxes=codes.boxes,
        box_arrays=codes.boxes.arrays(),
        drug_atc_key=np.array([atc_codes.index(a) for a in codes.boxes.drug_atc], dtype=np.int32),
        hospitals=_hospitals(config.seed, codes.population.departments),
        icd=codes.registries["icd"],
        ccam=codes.registries["ccam"],
        nabm=codes.registries["nabm"],
        ghm=codes.registries["ghm"],
        ucd=codes.registries["ucd"],
        error_ghm=codes.error_ghm,
        slots=codes.slots,
        lag_probabilities=lag_distribution(config.traps.late_flux),
        background_cause=codes.background_cause,
        non_ald=codes.non_ald,
        start=day(f"{config.start_year}-01-01"),
        end=day(f"{config.end_year}-12-31"),
        codes_manifest=codes.manifest,
        store_source=catalog.source + (" (built-in sample)" if catalog.is_sample else ""),
    )


@functools.lru_cache(maxsize=4)
def _resolve_codes(key, store_path: str | None, module_ids: tuple[str, ...]) -> _ResolvedCodes:
    """Resolve every code once per (store file, modules); ``key`` changes with the file."""
    del key
    store = StoreView(Path(store_path) if store_path else None)
    try:
        book = CodeBook(store)
        boxes = BoxTable()
        modules = [
            module_plan(i + 1, module_definition(m), book, boxes) for i, m in enumerate(module_ids)
        ]
        care = care_plan(care_definition(), book, boxes)
        error_ghm = [book.ghm.add(code) for code in error_ghms()]
        slots = {name: book.slot(name) for name in _SLOT_NAMES}
        population = _population_plan(store)
        background_cause = book.choice("cim", population_definition().background_causes)
        non_ald = {
            etm: book.choice("cim", codes)
            for etm, codes in population_definition().non_ald_exonerations.items()
        }
        # every code is registered above: the registries are complete from here
        return _ResolvedCodes(
            modules=modules,
            care=care,
            boxes=boxes,
            population=population,
            error_ghm=error_ghm,
            slots=slots,
            background_cause=background_cause,
            non_ald=non_ald,
            registries={
                "icd": list(book.icd.codes),
                "ccam": list(book.ccam.codes),
                "nabm": list(book.nabm.codes),
                "ghm": list(book.ghm.codes),
                "ucd": list(book.ucd.codes),
            },
            manifest=book.manifest(),
        )
    finally:
        store.close()


_SLOT_NAMES = (
    "nat_gp",
    "nat_specialist",
    "nat_visit",
    "nat_biology",
    "nat_imaging",
    "nat_tech_act",
    "nat_surgery_act",
    "nat_nurse",
    "nat_ph7",
    "nat_ph1",
    "nat_ucd",
    "nat_stay",
    "nat_flat_fee",
    "nat_majoration",
    "nat_franchise",
)


def lag_distribution(late_rate: float) -> np.ndarray:
    """P(lag = m months) for m = 0..27: 0 for m = 0, head scaled to 1 - late_rate.

    >>> p = lag_distribution(0.01)
    >>> round(float(p[1:7].sum()), 6), round(float(p[7:].sum()), 6), float(p[0])
    (0.99, 0.01, 0.0)
    """
    p = np.zeros(MAX_LAG_MONTHS + 1)
    p[1:7] = _LAG_HEAD / _LAG_HEAD.sum() * (1 - late_rate)
    tail = 0.8 ** np.arange(MAX_LAG_MONTHS - 6)
    p[7:] = tail / tail.sum() * late_rate
    return p


def _population_plan(store: StoreView) -> PopulationPlan:
    d = population_definition()
    males, females = np.array(d.pyramid.male), np.array(d.pyramid.female)
    counts = np.concatenate([males, females])
    sexes = np.concatenate([np.ones(len(males)), np.full(len(females), 2)]).astype(np.int8)
    ages = np.concatenate([np.arange(len(males)) * 5, np.arange(len(females)) * 5])
    departments = list(d.departments)
    weights = np.array([d.departments[k] for k in departments], dtype=float)
    area = np.zeros(len(departments), dtype=np.int8)
    for inst, depts in d.duplicate_institution_areas.items():
        for dept in depts:
            area[departments.index(dept)] = INSTITUTIONS.index(inst)
    scheme_w = np.array([s.weight for s in d.schemes])
    mortality = np.array(
        [[d.mortality[s]["a"], d.mortality[s]["b"]] for s in ("male", "female")], dtype=float
    )
    return PopulationPlan(
        cell_cum=np.cumsum(counts) / counts.sum(),
        cell_sex=sexes,
        cell_age=ages.astype(np.int16),
        departments=departments,
        department_cum=np.cumsum(weights) / weights.sum(),
        department_institution=area,
        schemes_cum=np.cumsum(scheme_w) / scheme_w.sum(),
        scheme_typ=np.array([s.flx_emt_typ for s in d.schemes], dtype=np.int16),
        scheme_rgm=np.array([s.rgm_grg_cod for s in d.schemes], dtype=np.int16),
        emitters=[np.array(d.flux_emitters[s.flx_emt_typ], dtype=np.int16) for s in d.schemes],
        mortality=mortality,
        q_min=float(d.mortality["q_min"]),
        q_max=float(d.mortality["q_max"]),
        background_scale=float(d.mortality["background_scale"]),
        org_codes=_org_codes(store, departments),
        regions=_regions(store, departments),
        c2s_bands=np.array([b for b, _ in d.c2s_share], dtype=np.float64),
        c2s_share=np.array([s for _, s in d.c2s_share], dtype=np.float64),
    )


def _regions(store: StoreView, departments: list[str]) -> list[str | None]:
    """Region code (IR_DPT_V.GEO_REG_COD) of each department, when the store has it."""
    if not store.has_table("IR_DPT_V", "nomenclature"):
        return [None] * len(departments)
    rows = dict(store.query('SELECT "GEO_DPT_COD", "GEO_REG_COD" FROM nomenclature."IR_DPT_V"'))
    return [rows.get(d) for d in departments]


def _org_codes(store: StoreView, departments: list[str]) -> list[list[str]]:
    """Up to three CPAM codes (IR_ORG_V, régime général) per department."""
    found: dict[str, list[str]] = {}
    if store.has_table("IR_ORG_V", "nomenclature"):
        rows = store.query(
            'SELECT "GEO_DPT_COD", "ORG_NUM" FROM nomenclature."IR_ORG_V" '
            "WHERE \"ORG_GRG_COD\" = '1' AND \"ORG_ORG_TYP\" = 'C' ORDER BY 1, 2"
        )
        for dept, org in rows:
            if len(found.setdefault(dept, [])) < 3:
                found[dept].append(org)
    out = []
    for dept in departments:
        codes = found.get(dept)
        if not codes:  # synthetic, in the shape of a CPAM code: 01C + caisse + centre
            caisse = (dept[1:] if dept[0] == "0" else dept[:2]) + "1"
            codes = [f"01C{caisse[:3]}000"]
        out.append(codes)
    return out


def _finess_prefix(dept: str) -> str:
    if dept.startswith("97"):
        return dept  # overseas FINESS start with 97 and the territory digit
    return dept[1:] if dept[0] == "0" else dept[:2]


def _hospitals(seed: int, departments: list[str]) -> Hospitals:
    """Synthetic hospitals per department, plus the real AP-HP/AP-HM/HCL FINESS."""
    care = care_definition()
    n_pub, n_priv = (
        care.hospitals["public_per_department"],
        care.hospitals["private_per_department"],
    )
    real = {s.eta_num for s in finess_sites()} | {s.legal_eta_num for s in finess_sites()}
    finess, dept_idx, public, institution, category = [], [], [], [], []
    by_pub, by_priv = [], []
    for d, dept in enumerate(departments):
        prefix = _finess_prefix(dept)
        pubs, privs = [], []
        for k in range(n_pub + n_priv):
            salt = 0
            while True:
                h = int(keyed_hash(seed, np.array([d * 64 + k + salt * 100_000]))[0])
                code = (prefix + f"{h % 10**9:09d}")[:9]
                if code not in real and code not in finess:
                    break
                salt += 1
            (pubs if k < n_pub else privs).append(len(finess))
            finess.append(code)
            dept_idx.append(d)
            public.append(k < n_pub)
            institution.append(0)
            category.append(355 if k < n_pub else 128)
        by_pub.append(pubs)
        by_priv.append(privs)
    legal: dict[int, int] = {}
    sites: dict[int, list[tuple[int, int | None, int | None]]] = {}
    for site in finess_sites():
        inst = INSTITUTIONS.index(site.institution)
        if inst not in legal:
            legal[inst] = len(finess)
            finess.append(site.legal_eta_num)
            dept_idx.append(departments.index("0" + site.legal_eta_num[:2]))
            public.append(True)
            institution.append(inst)
            category.append(101)
        if site.mco_first_year is None:
            continue
        sites.setdefault(inst, []).append((len(finess), site.mco_first_year, site.mco_last_year))
        finess.append(site.eta_num)
        dept_idx.append(
            departments.index("0" + site.eta_num[:2])
            if "0" + site.eta_num[:2] in departments
            else 0
        )
        public.append(True)
        institution.append(inst)
        category.append(101)
    return Hospitals(
        finess=finess,
        department=np.array(dept_idx, dtype=np.int16),
        public=np.array(public, dtype=bool),
        institution=np.array(institution, dtype=np.int8),
        category=np.array(category, dtype=np.int16),
        by_department_public=[np.array(x, dtype=np.int32) for x in by_pub],
        by_department_private=[np.array(x, dtype=np.int32) for x in by_priv],
        legal=legal,
        sites=sites,
    )
