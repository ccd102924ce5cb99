"""Codes the generator writes, resolved from the local store at generation time.

- Drugs: CIP13 boxes whose product (CIS) has exactly the module's active substances, or
  that the store links to the drug's ATC code (``CIP13_HAS_ATC``); hospital drugs: UCD
  linked to the ATC code or the substance. When the store has no drug vocabularies (the
  built-in sample), real boxes listed in ``resources/synthetic/drugs_fallback.csv`` are used.
- Diagnoses, acts, biology, GHM, natures of service …: the codes of the data files are
  kept when the store's nomenclature holds them; a list is never emptied: if none of its
  codes is in a loaded nomenclature, it is kept and reported in the manifest.

Every code actually written is recorded (``CodeBook.manifest()``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from sndskit.synthetic.boxes import DrugBoxes, select_boxes
from sndskit.synthetic.definitions import DrugDefinition, HospitalDrug, fallback_rows
from sndskit.text import normalise_text

# Natures of service (IR_NAT_V) and other coded slots: preferred code first.
SLOTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "nat_gp": ("IR_NAT_V", ("1110", "1111")),
    "nat_specialist": ("IR_NAT_V", ("1112", "1111")),
    "nat_visit": ("IR_NAT_V", ("1211",)),
    "nat_biology": ("IR_NAT_V", ("3211",)),
    "nat_imaging": ("IR_NAT_V", ("1351",)),
    "nat_tech_act": ("IR_NAT_V", ("1352", "1351")),
    "nat_surgery_act": ("IR_NAT_V", ("1321", "1352", "1351")),
    "nat_nurse": ("IR_NAT_V", ("3111",)),
    "nat_ph7": ("IR_NAT_V", ("3313",)),
    "nat_ph1": ("IR_NAT_V", ("3311",)),
    "nat_ucd": ("IR_NAT_V", ("3320", "3317", "3311")),
    "nat_stay": ("IR_NAT_V", ("2211",)),
    "nat_flat_fee": ("IR_NAT_V", ("1951", "1952")),
    "nat_majoration": ("IR_NAT_V", ("1125", "1126")),
    "nat_franchise": ("IR_NAT_V", ("1971", "1972")),
}


@dataclass
class Registry:
    """Codes of one kind, each with a stable index (order of first use)."""

    codes: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def add(self, code: str) -> int:
        if code not in self._index:
            self._index[code] = len(self.codes)
            self.codes.append(code)
        return self._index[code]

    def index(self, code: str) -> int:
        return self._index[code]

    def array(self) -> np.ndarray:
        return np.array(self.codes, dtype=object)


@dataclass(frozen=True)
class Choice:
    """A weighted choice among registry indices, sampled vectorially."""

    indices: np.ndarray
    cumulative: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if len(self.indices) == 1:
            return np.full(n, self.indices[0], dtype=np.int32)
        pos = np.searchsorted(self.cumulative, rng.random(n), side="right")
        return self.indices[np.minimum(pos, len(self.indices) - 1)]

    @property
    def empty(self) -> bool:
        return len(self.indices) == 0


class StoreView:
    """Read-only look-ups in the store: nomenclature codes and concept codes (cached)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._con = None
        if path is not None and Path(path).exists():
            self._con = duckdb.connect(str(path), read_only=True)
        self._nomenclatures: dict[str, set[str] | None] = {}
        self._concepts: dict[str, set[str] | None] = {}
        self._tables = set()
        if self._con is not None:
            self._tables = {
                (s, t)
                for s, t in self._con.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                ).fetchall()
            }

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def query(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        if self._con is None:
            return []
        return self._con.execute(sql, params or []).fetchall()

    def has_table(self, name: str, schema: str = "main") -> bool:
        return (schema, name) in self._tables

    def nomenclature_codes(self, name: str, column: str | None = None) -> set[str] | None:
        """Codes of a reference table (leading zeros stripped), None when not loaded."""
        key = f"{name}.{column}"
        if key not in self._nomenclatures:
            self._nomenclatures[key] = self._load_nomenclature(name, column)
        return self._nomenclatures[key]

    def _load_nomenclature(self, name: str, column: str | None) -> set[str] | None:
        if not self.has_table(name, "nomenclature"):
            return None
        if column is None:
            rows = self.query("SELECT payload FROM nomenclatures WHERE name = ?", [name])
            if not rows:
                return None
            import json

            payload = json.loads(rows[0][0])
            column = payload.get("code_column") or (payload.get("primary_key") or [None])[0]
            if column is None:
                return None
        values = self.query(f'SELECT DISTINCT "{column}" FROM nomenclature."{name}"')
        return {normalise_code(v[0]) for v in values if v[0] is not None}

    def concept_codes(self, vocabulary: str) -> set[str] | None:
        if vocabulary not in self._concepts:
            codes = None
            if self.has_table("concepts"):
                rows = self.query("SELECT code FROM concepts WHERE vocabulary = ?", [vocabulary])
                codes = {r[0] for r in rows} or None
            self._concepts[vocabulary] = codes
        return self._concepts[vocabulary]


def normalise_code(value: object) -> str:
    """Comparable form of a code: string, stripped, leading zeros removed for numbers.

    >>> normalise_code("0997"), normalise_code(997), normalise_code("E119")
    ('997', '997', 'E119')
    """
    text = str(value).strip()
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


class CodeBook:
    """Every code the generator may write, resolved once per run."""

    def __init__(self, store: StoreView) -> None:
        self.store = store
        self.icd = Registry()
        self.ccam = Registry()
        self.nabm = Registry()
        self.ghm = Registry()
        self.ucd = Registry()
        self.outside: dict[str, set[str]] = {}
        self.dropped: dict[str, set[str]] = {}
        self.drugs: dict[str, DrugBoxes] = {}
        self.hospital_drugs: dict[str, list[str]] = {}
        self._cis_substances: tuple[dict[str, set[str]], dict[str, list[str]]] | None = None
        self._slots: dict[str, int] = {}

    # -- weighted code lists ---------------------------------------------------------
    def _known(self, kind: str) -> set[str] | None:
        if kind == "dgn":
            return self.store.nomenclature_codes("MS_CIM_V", "CIM_COD")
        if kind == "cim":
            return self.store.nomenclature_codes("IR_CIM_V", "CIM_COD")
        if kind == "ccam":
            return self.store.nomenclature_codes("IR_CCAM_V63", "CAM_PRS_IDE_COD")
        if kind == "nabm":
            return self.store.nomenclature_codes("IR_BIO_R", "BIO_PRS_IDE")
        if kind == "ghm":
            return self.store.concept_codes("GHM")
        raise KeyError(kind)

    def _registry(self, kind: str) -> Registry:
        return {
            "dgn": self.icd,
            "cim": self.icd,
            "ccam": self.ccam,
            "nabm": self.nabm,
            "ghm": self.ghm,
        }[kind]

    def filter_codes(self, kind: str, codes: Iterable[str]) -> list[str]:
        """The codes a loaded nomenclature holds (all of them if it holds none)."""
        codes = list(codes)
        known = self._known(kind)
        if known is None or not codes:
            return codes
        kept = [c for c in codes if normalise_code(c) in known]
        if kept:
            self.dropped.setdefault(kind, set()).update(set(codes) - set(kept))
            return kept
        self.outside.setdefault(kind, set()).update(codes)
        return codes

    def choice(self, kind: str, weighted: Sequence[tuple[str, float]]) -> Choice:
        """Registry indices and cumulative probabilities of a weighted code list."""
        weights = dict(weighted)
        kept = self.filter_codes(kind, weights)
        registry = self._registry(kind)
        indices = np.array([registry.add(c) for c in kept], dtype=np.int32)
        w = np.array([weights[c] for c in kept], dtype=float)
        cumulative = np.cumsum(w) / w.sum() if len(w) else w
        return Choice(indices, cumulative)

    def probabilities(
        self, kind: str, items: Sequence[tuple[str, float]]
    ) -> list[tuple[int, float]]:
        """Independent (code index, probability or rate) pairs, filtered like ``choice``."""
        values = dict(items)
        kept = self.filter_codes(kind, values)
        registry = self._registry(kind)
        return [(registry.add(c), float(values[c])) for c in kept]

    # -- coded slots ------------------------------------------------------------------
    def slot(self, name: str) -> int:
        """An integer code for a slot (nature of service …) present in the store if loaded."""
        if name not in self._slots:
            nomenclature, preferences = SLOTS[name]
            known = self.store.nomenclature_codes(nomenclature)
            chosen = preferences[0]
            if known is not None:
                present = [p for p in preferences if normalise_code(p) in known]
                if present:
                    chosen = present[0]
                else:
                    self.outside.setdefault(nomenclature, set()).add(chosen)
            self._slots[name] = int(chosen)
        return self._slots[name]

    def int_codes(self, nomenclature: str, preferred: Sequence[int]) -> list[int]:
        """The subset of ``preferred`` a loaded nomenclature holds (all if none/not loaded)."""
        known = self.store.nomenclature_codes(nomenclature)
        if known is None:
            return list(preferred)
        kept = [c for c in preferred if str(c) in known]
        if not kept:
            self.outside.setdefault(nomenclature, set()).update(str(c) for c in preferred)
            return list(preferred)
        return kept

    # -- drugs ------------------------------------------------------------------------
    def _substance_index(self) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
        """(substance label → CIS codes, CIS → its substance labels), labels accent-free."""
        if self._cis_substances is None:
            rows = (
                self.store.query(
                    "SELECT r.code_1, c.label FROM relations AS r JOIN concepts AS c "
                    "ON c.vocabulary = 'SUBSTANCE' AND c.code = r.code_2 "
                    "WHERE r.relation = 'CIS_HAS_SUBSTANCE'"
                )
                if self.store.has_table("relations")
                else []
            )
            by_cis: dict[str, list[str]] = {}
            by_label: dict[str, set[str]] = {}
            normalised: dict[str, str] = {}
            for cis, label in rows:
                if label not in normalised:
                    normalised[label] = normalise_text(label).upper()
                text = normalised[label]
                by_cis.setdefault(cis, []).append(text)
                by_label.setdefault(text, set()).add(cis)
            self._cis_substances = (by_label, by_cis)
        return self._cis_substances

    def _store_boxes(self, drug: DrugDefinition) -> tuple[list[tuple[str, str | None, str]], str]:
        # a substance matches at the start of a word: OMEPRAZOLE is not ESOMEPRAZOLE
        patterns = [
            re.compile(r"\b" + re.escape(normalise_text(s).upper())) for s in drug.substances
        ]
        by_label, by_cis = self._substance_index()
        candidates = set().union(
            *(by_label[label] for label in by_label if patterns[0].search(label))
        )
        cis_codes = sorted(
            cis
            for cis in candidates
            if all(any(p.search(label) for p in patterns) for label in by_cis[cis])
            and all(any(p.search(label) for label in by_cis[cis]) for p in patterns)
        )
        via_atc = {
            r[0]
            for r in self.store.query(
                "SELECT code_1 FROM relations WHERE relation = 'CIP13_HAS_ATC' AND code_2 = ?",
                [drug.atc],
            )
        }
        via_substance: set[str] = set()
        if cis_codes:
            rows = self.store.query(
                "SELECT code_1 FROM relations WHERE relation = 'CIP13_BOX_OF_CIS' "
                "AND code_2 IN (SELECT unnest(?::VARCHAR[]))",
                [cis_codes],
            )
            via_substance = {r[0] for r in rows}
        method = "+".join(
            m for m, found in (("atc", via_atc), ("substance", via_substance)) if found
        )
        codes = sorted(via_atc | via_substance)
        if not codes:
            return [], ""
        rows = self.store.query(
            "SELECT c.code, c.label, r.code_1 FROM concepts AS c LEFT JOIN relations AS r "
            "ON r.relation = 'CIP7_SAME_BOX_AS_CIP13' AND r.code_2 = c.code "
            "WHERE c.vocabulary = 'CIP13' AND c.code IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY c.code",
            [codes],
        )
        return [(code, cip7, label) for code, label, cip7 in rows], method

    def drug(self, drug: DrugDefinition, *, acute: bool = False) -> DrugBoxes | None:
        """Boxes of ``drug`` (None when neither the store nor the fallback has any)."""
        if drug.id in self.drugs:
            return self.drugs[drug.id]
        has_drugs = bool(self.store.concept_codes("CIP13"))
        candidates, method = self._store_boxes(drug) if has_drugs else ([], "")
        if not candidates:
            candidates = [
                (r["cip13"], r["cip7"] or None, r["label"])
                for r in fallback_rows("drugs_fallback.csv")
                if r["drug_id"] == drug.id
            ]
            method = "fallback"
        boxes = select_boxes(drug, candidates, acute=acute)
        if boxes is None:
            self.drugs[drug.id] = None  # type: ignore[assignment]
            return None
        cip13, cip7, units, supply = boxes
        result = DrugBoxes(drug.id, drug.atc, cip13, cip7, units, supply, method)
        self.drugs[drug.id] = result
        return result

    def hospital_drug(self, drug: HospitalDrug) -> list[str]:
        """UCD codes (13 characters) of a hospital drug."""
        if drug.id in self.hospital_drugs:
            return self.hospital_drugs[drug.id]
        codes: set[str] = set()
        if self.store.has_table("relations"):
            codes = {
                r[0]
                for r in self.store.query(
                    "SELECT code_1 FROM relations WHERE relation = 'UCD_HAS_ATC' "
                    "AND code_2 IN (SELECT unnest(?::VARCHAR[]))",
                    [list(drug.atc)],
                )
            }
        known = self.store.nomenclature_codes("NU_UCD_R", "UCD_UCD_COD")
        if known is not None:
            codes = {c for c in codes if normalise_code(c) in known}
        chosen = sorted(codes)[:3]
        if not chosen:
            chosen = [
                r["ucd"] for r in fallback_rows("ucd_fallback.csv") if r["drug_id"] == drug.id
            ]
        for code in chosen:
            self.ucd.add(code)
        self.hospital_drugs[drug.id] = chosen
        return chosen

    # -- manifest ---------------------------------------------------------------------
    def manifest(self) -> dict:
        return {
            "drugs": {
                drug_id: None
                if boxes is None
                else {
                    "atc": boxes.atc,
                    "resolved_by": boxes.method,
                    "cip13": boxes.cip13,
                    "supply_days": [round(s, 1) for s in boxes.supply_days],
                }
                for drug_id, boxes in sorted(self.drugs.items())
            },
            "hospital_drugs_ucd": dict(sorted(self.hospital_drugs.items())),
            "cim10": sorted(self.icd.codes),
            "ccam": sorted(self.ccam.codes),
            "nabm": sorted(self.nabm.codes),
            "ghm": sorted(self.ghm.codes),
            "slots": dict(sorted(self._slots.items())),
            "codes_not_in_store_nomenclature": {k: sorted(v) for k, v in self.outside.items()},
            "codes_dropped_not_in_store": {k: sorted(v) for k, v in self.dropped.items()},
        }
