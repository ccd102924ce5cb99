"""Definitions (YAML) turned into plans: every code resolved to a registry index once.

A plan holds only numbers and numpy arrays, so chunks are generated without any look-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sndskit.synthetic.boxes import DrugBoxes
from sndskit.synthetic.codes import Choice, CodeBook
from sndskit.synthetic.definitions import (
    CareDefinition,
    DrugDefinition,
    ModuleDefinition,
    StayVariant,
)


@dataclass
class BoxTable:
    """Every drug box the generator may dispense (global index = position)."""

    cip13: list[str] = field(default_factory=list)
    cip7: list[str | None] = field(default_factory=list)
    units: list[int] = field(default_factory=list)  # units (tablets, pens …) per box
    supply_days: list[float] = field(default_factory=list)
    drug: list[int] = field(default_factory=list)  # index in ``drug_ids``
    drug_ids: list[str] = field(default_factory=list)
    drug_atc: list[str] = field(default_factory=list)
    drug_price: list[float] = field(default_factory=list)
    drug_units_per_day: list[float] = field(default_factory=list)  # units taken a day
    drug_nature: list[str] = field(default_factory=list)  # slot name

    def add(
        self, boxes: DrugBoxes, price: float, nature_slot: str, units_per_day: float
    ) -> tuple[list[int], list[int]]:
        if boxes.drug_id in self.drug_ids:
            d = self.drug_ids.index(boxes.drug_id)
        else:
            d = len(self.drug_ids)
            self.drug_ids.append(boxes.drug_id)
            self.drug_atc.append(boxes.atc)
            self.drug_price.append(price)
            self.drug_units_per_day.append(units_per_day)
            self.drug_nature.append(nature_slot)
        existing = [i for i, dd in enumerate(self.drug) if dd == d]
        if not existing:
            for k in range(len(boxes.cip13)):
                self.cip13.append(boxes.cip13[k])
                self.cip7.append(boxes.cip7[k])
                self.units.append(boxes.units[k])
                self.supply_days.append(boxes.supply_days[k])
                self.drug.append(d)
            existing = [i for i, dd in enumerate(self.drug) if dd == d]
        small = [i for i in existing if self.supply_days[i] < 60]
        large = [i for i in existing if self.supply_days[i] >= 60]
        return small, large

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "supply": np.array(self.supply_days, dtype=np.float64),
            "drug": np.array(self.drug, dtype=np.int32),
            "price": np.array([self.drug_price[d] for d in self.drug], dtype=np.float64),
        }


@dataclass
class DrugPlan:
    """A drug with its boxes and dispensing rhythm."""

    drug: int  # index in BoxTable.drug_ids
    id: str
    small: np.ndarray  # global box indices of one-month boxes
    large: np.ndarray  # three-month boxes
    definition: DrugDefinition
    group: str | None


@dataclass
class VariantPlan:
    dp: Choice | None  # None: the person's diagnosis code
    ghm: Choice
    ccam: list[tuple[int, float]]
    los: tuple[int, int, int]
    death: float
    private_share: float
    min_age: int
    max_age: int


@dataclass
class Variants:
    plans: list[VariantPlan]
    cumulative: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        pos = np.searchsorted(self.cumulative, rng.random(n), side="right")
        return np.minimum(pos, len(self.plans) - 1)


@dataclass
class ModulePlan:
    index: int  # 1-based module number (0 = background)
    id: str
    definition: ModuleDefinition
    prevalence: np.ndarray  # (2, bands) male, female
    incidence: np.ndarray
    diagnosis: Choice  # PMSI diagnosis codes (MS_CIM_V)
    ald_codes: Choice  # IR_CIM_V
    cause: Choice
    index_variants: Variants | None
    follow_up_variants: Variants | None
    session_dp: Choice | None
    session_ghm: Choice | None
    hospital_drug_ucd: list[int]
    drugs: list[DrugPlan]
    biology: list[tuple[int, float]]
    acts: list[tuple[int, float]]
    specialists: list[tuple[int, float]]
    rehabilitation_mmp: Choice | None  # SSR morbidité principale (MS_CIM_V)


@dataclass
class CarePlan:
    definition: CareDefinition
    bands: np.ndarray
    rates: dict[str, np.ndarray]  # kind → (2, bands)
    home_visit_share: np.ndarray
    specialist_spe: np.ndarray
    specialist_cum: np.ndarray
    acute_boxes: list[np.ndarray]  # per acute drug: global box indices
    acute_cum: np.ndarray
    acute_drugs: list[int]
    chronic: list[tuple[DrugPlan, np.ndarray]]  # drug, prevalence (2, bands)
    biology: Choice
    imaging: Choice
    mammography: int
    stay_rates: np.ndarray
    stay_variants: Variants
    childbirth: VariantPlan
    childbirth_rate: float
    childbirth_ages: tuple[int, int]
    comorbidities: list[tuple[int, np.ndarray]]


def _by_sex(values) -> np.ndarray:
    return np.array([values.male, values.female], dtype=np.float64)


def _variant(book: CodeBook, v: StayVariant) -> VariantPlan:
    return VariantPlan(
        dp=None if v.dp == "from_diagnosis" else book.choice("dgn", v.dp),
        ghm=book.choice("ghm", v.ghm),
        ccam=book.probabilities("ccam", v.ccam),
        los=v.los,
        death=v.death,
        private_share=v.private_share,
        min_age=v.min_age,
        max_age=v.max_age,
    )


def _variants(book: CodeBook, variants: list[StayVariant]) -> Variants:
    kept = [(v, _variant(book, v)) for v in variants]
    kept = [(v, p) for v, p in kept if p.dp is None or not p.dp.empty]
    weights = np.array([v.weight for v, _ in kept], dtype=float)
    return Variants([p for _, p in kept], np.cumsum(weights) / weights.sum())


def drug_plan(
    book: CodeBook, boxes: BoxTable, d: DrugDefinition, *, acute=False
) -> DrugPlan | None:
    resolved = book.drug(d, acute=acute)
    if resolved is None:
        return None
    nature = "nat_ph1" if d.nature == 3311 else "nat_ph7"
    small, large = boxes.add(resolved, d.price, nature, d.units_per_day / d.supply_factor)
    if not small and not large:
        return None
    return DrugPlan(
        drug=boxes.drug_ids.index(resolved.drug_id),
        id=d.id,
        small=np.array(small or large, dtype=np.int32),
        large=np.array(large, dtype=np.int32),
        definition=d,
        group=d.group,
    )


def module_plan(index: int, d: ModuleDefinition, book: CodeBook, boxes: BoxTable) -> ModulePlan:
    index_variants = _variants(book, d.index_stay.variants) if d.index_stay else None
    follow = None
    if d.follow_up_stays is not None:
        if d.follow_up_stays.variants == "same_as_index":
            follow = index_variants
        else:
            follow = _variants(book, d.follow_up_stays.variants)
    ucd: list[int] = []
    if d.hospital_drug is not None:
        ucd = [book.ucd.index(c) for c in book.hospital_drug(d.hospital_drug)]
    drugs = [p for p in (drug_plan(book, boxes, x) for x in d.drugs) if p is not None]
    ald_codes = d.ald.codes if d.ald and d.ald.codes else d.diagnosis
    return ModulePlan(
        index=index,
        id=d.id,
        definition=d,
        prevalence=_by_sex(d.epidemiology.prevalence),
        incidence=_by_sex(d.epidemiology.incidence),
        diagnosis=book.choice("dgn", d.diagnosis),
        ald_codes=book.choice("cim", ald_codes),
        cause=book.choice("cim", d.mortality.cause),
        index_variants=index_variants,
        follow_up_variants=follow,
        session_dp=book.choice("dgn", d.sessions.dp) if d.sessions else None,
        session_ghm=book.choice("ghm", d.sessions.ghm) if d.sessions else None,
        hospital_drug_ucd=ucd,
        drugs=drugs,
        biology=book.probabilities("nabm", d.biology),
        acts=book.probabilities("ccam", d.outpatient_acts),
        specialists=[(int(s), float(r)) for s, r in d.specialist_visits],
        rehabilitation_mmp=book.choice("dgn", d.rehabilitation.mmp) if d.rehabilitation else None,
    )


def care_plan(d: CareDefinition, book: CodeBook, boxes: BoxTable) -> CarePlan:
    rates = {
        kind: _by_sex(_Sexed(**d.visits[kind]))
        for kind in ("gp", "specialist", "pharmacy", "biology", "imaging", "nurse")
    }
    spe = book.int_codes("IR_SPE_V", [s for s, _ in d.specialist_specialties])
    spe_w = np.array([w for s, w in d.specialist_specialties if s in spe], dtype=float)
    acute_boxes, acute_w, acute_drugs = [], [], []
    for x in d.acute_drugs:
        plan = drug_plan(book, boxes, x, acute=True)
        if plan is not None:
            acute_boxes.append(np.concatenate([plan.small, plan.large]))
            acute_w.append(x.weight)
            acute_drugs.append(plan.drug)
    chronic = []
    for x in d.background_chronic:
        plan = drug_plan(book, boxes, x)
        if plan is not None and x.prevalence is not None:
            chronic.append((plan, _by_sex(x.prevalence)))
    comorbidities = []
    for c in d.stays.comorbidities:
        kept = book.probabilities("dgn", [(c.code, 1.0)])
        if kept:
            comorbidities.append((kept[0][0], np.array(c.probability, dtype=float)))
    mammo = book.probabilities("ccam", [(str(d.mammography["act"]), 1.0)])
    childbirth = d.stays.childbirth
    return CarePlan(
        definition=d,
        bands=np.array(d.age_bands, dtype=np.float64),
        rates=rates,
        home_visit_share=np.array(d.visits["home_visit_share"], dtype=np.float64),
        specialist_spe=np.array(spe, dtype=np.int16),
        specialist_cum=np.cumsum(spe_w) / spe_w.sum(),
        acute_boxes=acute_boxes,
        acute_cum=np.cumsum(acute_w) / np.sum(acute_w),
        acute_drugs=acute_drugs,
        chronic=chronic,
        biology=book.choice("nabm", d.biology_codes),
        imaging=book.choice("ccam", d.imaging_acts),
        mammography=mammo[0][0],
        stay_rates=_by_sex(d.stays.rate),
        stay_variants=_variants(book, d.stays.variants),
        childbirth=_variant(book, d.stays.childbirth_variant),
        childbirth_rate=float(childbirth["rate"]),
        childbirth_ages=(int(childbirth["min_age"]), int(childbirth["max_age"])),
        comorbidities=comorbidities,
    )


@dataclass
class _Sexed:
    male: list[float]
    female: list[float]
