"""Curated WHO ATC subset: the file itself and the ATC codes it gives town-pharmacy boxes.

Expected codes are WHO ATC/DDD Index facts; the file is checked for form and hierarchy."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from importlib import resources

import pytest

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.drugs import drug_atc_coverage
from sndskit.terminology.loaders.drugs_atc import read_curated_atc, route_allows
from sndskit.terminology.model import TerminologyBatch
from sndskit.text import normalise_text
from tests.terminology.drug_support import (
    codes,
    links,
    raw_fields,
    shared,
)

# ---------------------------------------------------------------- curated WHO ATC subset

WHO_SOURCE = "WHO Collaborating Centre for Drug Statistics Methodology, ATC/DDD Index 2024"
ATC_PATTERN = re.compile(r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$")
CODE_LENGTH = {1: 1, 2: 3, 3: 4, 4: 5, 5: 7}
# WHO ATC/DDD Index codes of substances studied in the SNDS, and their BDPM names
WHO_FACTS = {
    "A10BA02": ("metformin", "METFORMINE"),
    "A10BJ02": ("liraglutide", "LIRAGLUTIDE"),
    "A10BJ05": ("dulaglutide", "DULAGLUTIDE"),
    "A10BJ06": ("semaglutide", "SÉMAGLUTIDE"),
    "A10AE04": ("insulin glargine", "INSULINE GLARGINE"),
    "C10AA01": ("simvastatin", "SIMVASTATINE"),
    "C10AA03": ("pravastatin", "PRAVASTATINE"),
    "C10AA05": ("atorvastatin", "ATORVASTATINE"),
    "C10AA07": ("rosuvastatin", "ROSUVASTATINE"),
    "B01AF01": ("rivaroxaban", "RIVAROXABAN"),
    "B01AF02": ("apixaban", "APIXABAN"),
    "B01AE07": ("dabigatran etexilate", "DABIGATRAN ÉTEXILATE"),
    "B01AA03": ("warfarin", "WARFARINE"),
    "B01AA07": ("acenocoumarol", "ACÉNOCOUMAROL"),
    "B01AA12": ("fluindione", "FLUINDIONE"),
    "B01AC04": ("clopidogrel", "CLOPIDOGREL"),
    "B01AC06": ("acetylsalicylic acid", "ACIDE ACÉTYLSALICYLIQUE"),
    "N02BA01": ("acetylsalicylic acid", "ACIDE ACÉTYLSALICYLIQUE"),
    "A02BC01": ("omeprazole", "OMÉPRAZOLE"),
    "N02BE01": ("paracetamol", "PARACÉTAMOL"),
    "H03AA01": ("levothyroxine sodium", "LÉVOTHYROXINE"),
    "J01CA04": ("amoxicillin", "AMOXICILLINE"),
    "J01CR02": ("amoxicillin and beta-lactamase inhibitor", "ACIDE CLAVULANIQUE + AMOXICILLINE"),
    "A10BD07": ("metformin and sitagliptin", "METFORMINE + SITAGLIPTINE"),
    "B03XA01": ("erythropoietin", "ÉPOÉTINE ALFA"),
}


def curated_rows() -> list[dict[str, str]]:
    path = resources.files("sndskit") / "resources" / "terminology" / "atc_who_curated.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_curated_who_atc_file_is_well_formed():
    rows = curated_rows()
    assert list(rows[0]) == ["code", "level", "label_en", "label_fr", "substance_fr", "source"]
    by_code = {r["code"]: r for r in rows}
    assert len(by_code) == len(rows), "duplicate codes"
    for row in rows:
        code, level = row["code"], int(row["level"])
        assert ATC_PATTERN.match(code) and len(code) == CODE_LENGTH[level], row
        if level > 1:
            assert code[: CODE_LENGTH[level - 1]] in by_code, f"parent of {code} missing"
        assert row["label_en"] and row["label_fr"] and row["source"] == WHO_SOURCE, row
        assert not re.search("[ÃÂ\ufffd]", row["label_fr"] + row["substance_fr"]), row
        assert bool(row["substance_fr"]) == (level == 5), row
        if level == 5:  # upper case; a combination's substances in alphabetical order
            assert row["substance_fr"] == row["substance_fr"].upper(), row
            firsts = [normalise_text(p.split(" | ")[0]) for p in row["substance_fr"].split(" + ")]
            assert firsts == sorted(firsts), row
    levels = Counter(int(r["level"]) for r in rows)
    assert (levels[1], levels[2]) == (14, 94) and levels[5] >= 250
    assert {c for c in by_code if len(c) == 1} == set("ABCDGHJLMNPRSV")
    assert by_code["A10"]["label_fr"] == "Médicaments du diabète"
    assert by_code["C09"]["label_en"] == "AGENTS ACTING ON THE RENIN-ANGIOTENSIN SYSTEM"
    for code, (english, french) in WHO_FACTS.items():
        assert by_code[code]["label_en"] == english
        assert french in by_code[code]["substance_fr"].split(" | ")
    # the studied areas are complete at levels 3 and 4, e.g. all the A10B groups
    a10b = {c for c in by_code if len(c) == 5 and c.startswith("A10B")}
    assert a10b == {f"A10B{x}" for x in "ABCDFGHJKX"}
    assert read_curated_atc() and len(read_curated_atc()) == len(rows)


def test_curated_file_errors_name_the_line(tmp_path):
    good = curated_rows()[:3]  # A, A01, A02
    path = tmp_path / "atc.csv"
    for broken, message in [
        ({**good[2], "code": "A02X", "level": "3"}, "A02X"),  # fine: parent A02 exists
        ({**good[2], "code": "B01", "level": "2"}, "parent of B01"),
        ({**good[2], "level": "3"}, "not an ATC code of level"),
        ({**good[1]}, "listed twice"),
    ]:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(good[0]))
            writer.writeheader()
            writer.writerows([*good, broken])
        if message == "A02X":
            assert [r.code for r in read_curated_atc(path)] == ["A", "A01", "A02", "A02X"]
            continue
        with pytest.raises(SndskitError, match=message) as raised:
            read_curated_atc(path)
        assert raised.value.line == 5


def boxes_of_single_substance(real: TerminologyBatch, word: str) -> dict[str, list[str]]:
    """CIS → CIP13 boxes of the products whose only active substance names ``word``."""
    labels = {c.code: normalise_text(c.label) for c in codes(real, "SUBSTANCE").values()}
    wanted = normalise_text(word)
    products = {
        cis
        for cis, subs in links(real, "CIS_HAS_SUBSTANCE").items()
        if len(subs) == 1 and wanted in labels[next(iter(subs))]
    }
    found: dict[str, list[str]] = defaultdict(list)
    for cip13, (cis,) in links(real, "CIP13_BOX_OF_CIS").items():
        if cis in products:
            found[cis].append(cip13)
    return found


@pytest.fixture(scope="module")
def atc_links(real) -> tuple[dict[str, set[str]], dict[str, set[tuple[str, bool, bool]]]]:
    """CIS → ATC codes; CIP13 → (ATC code, inferred, from the curated subset)."""
    box_atc: dict[str, set[tuple[str, bool, bool]]] = defaultdict(set)
    for r in real.relations:
        if r.relation == "CIP13_HAS_ATC":
            box_atc[r.code_1].add((r.code_2, r.inferred, "curated WHO" in r.source))
    return links(real, "CIS_HAS_ATC"), box_atc


TOWN_DRUGS = {
    "METFORMINE": "A10BA02",
    "ATORVASTATINE": "C10AA05",
    "APIXABAN": "B01AF02",
    "INSULINE GLARGINE": "A10AE04",
    "ROSUVASTATINE": "C10AA07",
    "LÉVOTHYROXINE": "H03AA01",
    "AMOXICILLINE": "J01CA04",
    "ESCITALOPRAM": "N06AB10",
    "PRÉGABALINE": "N02BF02",
}


@shared
@pytest.mark.shared_data
@pytest.mark.parametrize(("substance", "atc"), sorted(TOWN_DRUGS.items()))
def test_town_pharmacy_boxes_get_their_who_atc(real, atc_links, substance, atc):
    products = boxes_of_single_substance(real, substance)
    assert products, f"no {substance} product"
    product_atc, box_atc = atc_links
    for cis, boxes in products.items():
        assert product_atc[cis] == {atc}, cis
        for box in boxes:
            assert box_atc[box] == {(atc, True, True)}, box


@shared
@pytest.mark.shared_data
def test_metformin_chain_labels_and_synonyms(real):
    atc = codes(real, "ATC")
    chain, code = [], "A10BA02"
    while code:
        chain.append((code, atc[code].label))
        code = atc[code].parent
    assert chain == [
        ("A10BA02", "Metformine"),
        ("A10BA", "Biguanides"),
        ("A10B", "Hypoglycémiants, à l'exclusion des insulines"),
        ("A10", "Médicaments du diabète"),
        ("A", "Voies digestives et métabolisme"),
    ]
    synonyms = {(s.code, s.text, s.kind) for s in real.synonyms if s.vocabulary == "ATC"}
    assert ("A10BA02", "metformin", "english") in synonyms
    assert ("A10", "DRUGS USED IN DIABETES", "english") in synonyms
    assert ("A10BD07", "METFORMINE + SITAGLIPTINE", "alt_label") in synonyms
    epoetins = {normalise_text(t) for c, t, k in synonyms if c == "B03XA01" and k == "alt_label"}
    assert {"epoetine alfa", "epoetine zeta"} <= epoetins
    # a source label keeps priority; the curated French one becomes a synonym
    assert atc["L01XC03"].label == "TRASTUZUMAB"
    metformin = {r.code_1 for r in real.relations if r.relation == "SUBSTANCE_HAS_ATC"}
    assert {c for c, s in codes(real, "SUBSTANCE").items() if s.label == "METFORMINE"} <= metformin


@shared
@pytest.mark.shared_data
def test_topical_and_local_products_get_no_systemic_atc(real):
    routes = {
        f[0].decode(): {r.strip().lower() for r in f[3].decode("cp1252").split(";")}
        for f in raw_fields("CIS_bdpm.txt")
    }
    local = ("D", "S01", "S02", "S03", "M02", "N01B", "C05", "G01", "G02", "G03", "A01", "R02")
    only_local = {
        cis for cis, r in routes.items() if r <= {"cutanée", "ophtalmique", "auriculaire"}
    }
    atc_of = links(real, "CIS_HAS_ATC")
    wrong = {cis: atc_of[cis] for cis in only_local & set(atc_of)}
    assert not {cis: a for cis, a in wrong.items() if not all(c.startswith(local) for c in a)}
    # non-vacuous: diclofenac gels, timolol and aciclovir eye or skin forms exist
    for word, systemic in (("DICLOFÉNAC", "M01AB05"), ("TIMOLOL", "C07AA06")):
        local_forms = set(boxes_of_single_substance(real, word)) & only_local
        assert local_forms and not any(systemic in atc_of.get(c, ()) for c in local_forms)
        assert any(systemic in a for a in atc_of.values())  # the oral forms do get it


@shared
@pytest.mark.shared_data
def test_dose_route_and_salt_rules_pick_the_who_code(real):
    cis = {c.label.split(",")[0]: code for code, c in codes(real, "CIS").items()}
    atc_of = links(real, "CIS_HAS_ATC")
    expected = {
        "KARDEGIC 75 mg": {"B01AC06"},  # low-dose aspirin: antiplatelet
        "ASPEGIC ADULTES 1000 mg": {"N02BA01"},  # analgesic dose
        "CERTICAN 0": {"L04AH02"},  # everolimus 0.75 mg: transplant
        "VOTUBIA 5 mg": {"L01EG02"},  # everolimus 5 mg: antineoplastic
        "FENTANYL MYLAN 100 microgrammes/2 ml": {"N01AH01"},  # injection: anaesthetic
        "RECTOGESIC 4 mg/g": {"C05AE01"},  # rectal glyceryl trinitrate: anal fissure
        "ENTRESTO 49 mg/51 mg": {"C09DX04"},  # one salt, two fractions
        "DEPAKOTE 500 mg": {"N03AG01"},  # divalproate: valproic acid
        "TARDYFERON B9": {"B03AD03"},  # ferrous sulfate + folic acid
        "GLUCOVANCE 500 mg/5 mg": {"A10BD02"},  # metformin + a sulfonylurea
    }
    for label, atc in expected.items():
        assert atc_of[cis[label]] == atc, label
    patches = [c for label, c in cis.items() if label.startswith("DUROGESIC")]
    assert patches and all(atc_of[c] == {"N02AB03"} for c in patches)


@shared
@pytest.mark.shared_data
def test_curated_subset_covers_most_town_boxes(real):
    cov = drug_atc_coverage(real)
    assert cov["cip13_with_atc_percent"] > 50  # 10.8 % with the UCD sources only
    assert cov["checked_against_ir_cip_v"] >= 1000
    assert real.versions["ATC"].startswith("atc_who_curated.csv (WHO 2024)")
    assert all(len(text) < 120 and "\n" not in text for text in real.versions.values())


def test_route_rules_of_the_inference():
    assert not route_allows(frozenset({"rectale"}), "H02AB09")  # hydrocortisone enema
    assert route_allows(frozenset({"intra-articulaire"}), "H02AB01")
    assert not route_allows(frozenset({"voie buccale autre"}), "M01AE09")  # lozenge
    assert not route_allows(frozenset({"vaginale"}), "J01XD01")
    assert not route_allows(frozenset({"dentaire"}), "J01AA08")
    assert route_allows(frozenset({"orale"}), "N02BE01")
