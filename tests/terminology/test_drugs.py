"""Drug vocabularies: BDPM, UCD, ATC and the inferred box → ATC links.

Real-data tests compare the loader with counts computed here with plain Python on the raw
files, with domain facts (code formats, WHO ATC codes of well-known substances) and with
``IR_CIP_V``, an official SNDS table the inference does not use. Fixture tests cover
encodings, line ends, leading zeros, quirks, errors and the IR_PHA_R path.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import date
from pathlib import Path

import pytest

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.drugs import drug_atc_coverage, load_drugs, name_key
from sndskit.terminology.model import SYNONYM_KINDS, TerminologyBatch
from tests.terminology.drug_support import (
    INFERRED_RELATIONS,
    ORAREF,
    SHARED_DATA,
    codes,
    links,
    raw_fields,
    shared,
)

# ------------------------------------------------------------------------------ real data


@shared
@pytest.mark.shared_data
def test_counts_equal_independent_counts_of_the_raw_files(real):
    cip = raw_fields("CIS_CIP_bdpm.txt")
    assert len(codes(real, "CIP13")) == len({f[6] for f in cip if re.fullmatch(rb"\d{13}", f[6])})
    assert len(codes(real, "CIP7")) == len({f[1] for f in cip})
    assert len(codes(real, "CIS")) == len({f[0] for f in raw_fields("CIS_bdpm.txt")})
    assert len(codes(real, "SUBSTANCE")) == len({f[2] for f in raw_fields("CIS_COMPO_bdpm.txt")})
    assert len(codes(real, "GENERIC_GROUP")) == len(
        {f[0] for f in raw_fields("CIS_GENER_bdpm.txt")}
    )


@shared
@pytest.mark.shared_data
def test_code_formats_follow_the_primer(real):
    assert all(re.fullmatch(r"3400\d{9}", c) for c in codes(real, "CIP13"))
    assert all(re.fullmatch(r"\d{7}", c) for c in codes(real, "CIP7"))
    assert all(re.fullmatch(r"\d{8}", c) for c in codes(real, "CIS"))
    ucd = codes(real, "UCD")
    assert ucd and all(re.fullmatch(r"000000\d{7}", c) for c in ucd)
    ucd7 = {(s.code, s.text) for s in real.synonyms if s.kind == "alt_code"}
    assert all((c, c[6:]) in ucd7 for c in ucd), "every UCD is findable by its UCD7"
    assert {s.kind for s in real.synonyms} <= set(SYNONYM_KINDS)


@shared
@pytest.mark.shared_data
def test_ucd_count_is_the_union_of_the_four_sources(real):
    found: set[str] = set()
    for name in ("NU_UCD_R.csv", "NU_ITE_R.csv"):
        with (ORAREF / name).open(encoding="utf-8") as handle:
            found |= {row["UCD_UCD_COD"][-7:] for row in csv.DictReader(handle, delimiter=";")}
    nomensland = SHARED_DATA / "nomensland"
    for name, key in (
        ("ucd_tot_table.json.gz", "code_ucd"),
        ("mco_medref_atih_historique_liste_ucd.json.gz", "ucd7"),
    ):
        found |= {rec[key] for rec in json.loads(gzip.decompress((nomensland / name).read_bytes()))}
    assert set(codes(real, "UCD")) == {"000000" + c for c in found}


@shared
@pytest.mark.shared_data
def test_product_substances_are_the_active_substance_rows(real):
    expected = {
        (f[0].decode(), f[2].decode())
        for f in raw_fields("CIS_COMPO_bdpm.txt")
        if b"SA" in [x.strip() for x in f[6:]]
    }
    got = {(cis, s) for cis, subs in links(real, "CIS_HAS_SUBSTANCE").items() for s in subs}
    assert got == expected
    # a salt (SA) and its therapeutic fraction (FT): only the SA is linked to the product
    ft_only = {f[2].decode() for f in raw_fields("CIS_COMPO_bdpm.txt") if f[6] == b"FT"}
    ft_only -= {s for _, s in expected}
    assert ft_only and not ft_only & {s for _, s in got}


@shared
@pytest.mark.shared_data
def test_stopped_boxes_end_at_their_stop_declaration(real):
    stopped = {f[6].decode() for f in raw_fields("CIS_CIP_bdpm.txt") if b"arr\xeat" in f[4].lower()}
    boxes = codes(real, "CIP13")
    assert stopped and {c for c, box in boxes.items() if box.valid_to} == stopped
    # the ranitidine recall of September 2019 (NDMA): AZANTAC-type boxes stopped then
    assert boxes["3400933208639"].valid_to == date(2019, 9, 25)


@shared
@pytest.mark.shared_data
def test_labels_are_decoded_and_boxes_carry_the_product_name(real):
    labels = [c.label for c in real.concepts]
    assert not [t for t in labels if "Ã" in t or "\ufffd" in t or "\r" in t or "\t" in t]
    cis, boxes = codes(real, "CIS"), codes(real, "CIP13")
    assert any("comprimé pelliculé" in c.label for c in cis.values())
    for cip13, (product,) in links(real, "CIP13_BOX_OF_CIS").items():
        assert boxes[cip13].label.startswith(cis[product].label + " — ")


@shared
@pytest.mark.shared_data
def test_relations_join_existing_concepts_and_inferred_ones_say_so(real):
    present = {(c.vocabulary, c.code) for c in real.concepts}
    for r in real.relations:
        assert (r.vocabulary_1, r.code_1) in present and (r.vocabulary_2, r.code_2) in present
        assert r.inferred == (r.relation in INFERRED_RELATIONS), r
        if r.inferred:
            assert "inferred" in r.source or "matched" in r.source


@shared
@pytest.mark.shared_data
def test_atc_hierarchy_is_the_truncation_chain(real):
    atc = codes(real, "ATC")
    level_of = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}
    for code, concept in atc.items():
        assert concept.level == level_of[len(code)]
        if concept.level > 1:
            assert concept.parent == code[: [1, 3, 4, 5][concept.level - 2]]
            assert concept.parent in atc
    chain, code = [], "L01XC03"  # trastuzumab, a UCD of the liste en sus
    while code:
        chain.append(code)
        code = atc[code].parent
    assert chain == ["L01XC03", "L01XC", "L01X", "L01", "L"]
    assert atc["L01XC03"].label.upper() == "TRASTUZUMAB"
    # no ATC level-1 label in these sources: the curated WHO subset gives it
    assert atc["L"].label == "Antinéoplasiques et immunomodulateurs"


# WHO ATC codes (versions of the 2010s, as in the UCD sources) of one-substance products
ATC_FACTS = {
    "docetaxel": "L01CD02",
    "paclitaxel": "L01CD01",
    "fluconazole": "J02AC01",
    "tadalafil": "G04BE08",
    "lenalidomide": "L04AX04",
    "darunavir": "J05AE10",
    "trastuzumab": "L01XC03",  # not L01XC14, trastuzumab emtansine, whose UCDs say "trastuzumab"
}


@shared
@pytest.mark.shared_data
@pytest.mark.parametrize(("substance", "atc"), sorted(ATC_FACTS.items()))
def test_inferred_atc_matches_the_who_code_of_known_substances(real, substance, atc):
    names = {c.code: name_key(c.label) for c in codes(real, "SUBSTANCE").values()}
    subs = links(real, "CIS_HAS_SUBSTANCE")
    atc_of = links(real, "CIS_HAS_ATC")
    products = [cis for cis, s in subs.items() if {names[c] for c in s} == {substance}]
    with_atc = [cis for cis in products if cis in atc_of]
    assert with_atc, f"no {substance} product got an ATC"
    assert all(atc_of[cis] == {atc} for cis in with_atc)


@shared
@pytest.mark.shared_data
def test_metformin_boxes_get_a10ba02_when_inferred(real):
    # The public UCD sources carry no metformin (a town drug), so nothing may be inferred
    # here; whatever is must be A10BA02. The fixture test below makes it non-vacuous.
    names = {c.code: c.label for c in codes(real, "SUBSTANCE").values()}
    metformin = {
        cis
        for cis, subs in links(real, "CIS_HAS_SUBSTANCE").items()
        if len(subs) == 1 and "METFORMINE" in names[next(iter(subs))]
    }
    assert metformin
    box_atc = links(real, "CIP13_HAS_ATC")
    for cip13, (cis,) in links(real, "CIP13_BOX_OF_CIS").items():
        if cis in metformin and cip13 in box_atc:
            assert box_atc[cip13] == {"A10BA02"}


@shared
@pytest.mark.shared_data
def test_route_keeps_topical_products_out_of_systemic_atc(real):
    cis = codes(real, "CIS")
    atc_of = links(real, "CIS_HAS_ATC")
    eye_gel = [c for c, p in cis.items() if p.label.startswith("VIRGAN")]  # ganciclovir
    assert eye_gel and not any("J05AB06" in atc_of.get(c, ()) for c in eye_gel)


@shared
@pytest.mark.shared_data
def test_inference_agrees_with_the_official_ir_cip_v_classes(real):
    cov = drug_atc_coverage(real)
    assert cov["checked_against_ir_cip_v"] >= 100
    assert cov["agreeing_with_ir_cip_v"] / cov["checked_against_ir_cip_v"] >= 0.95


@shared
@pytest.mark.shared_data
def test_coverage_is_reported(real):
    cov = drug_atc_coverage(real)
    boxes = set(codes(real, "CIP13"))
    with_atc = boxes & set(links(real, "CIP13_HAS_ATC"))
    assert cov["cip13"] == len(boxes) and cov["cip13_with_atc"] == len(with_atc) > 0
    assert cov["cip13_with_atc_percent"] == round(100 * len(with_atc) / len(boxes), 1)
    assert cov["cip13_with_reference_atc"] == 0  # IR_PHA_R is not public
    assert f"{cov['cip13_with_atc_percent']} % of boxes" in real.versions["CIP13"]
    assert set(real.versions) == {
        "CIS",
        "CIP13",
        "CIP7",
        "SUBSTANCE",
        "GENERIC_GROUP",
        "UCD",
        "ATC",
    }


# ------------------------------------------------------------------------------ fixtures

CIS_LINES = [
    "60000001\tMETFORMINE TEST 1000 mg, comprimé pelliculé\tcomprimé pelliculé\torale\t"
    "Autorisation active\tProcédure nationale\tCommercialisée\t01/02/2010\t\t\t LABO\tNon",
    "60000002\tKÉTOCONAZOLE TEST 2 %, crème\tcrème\tcutanée\tAutorisation active\t"
    "Procédure nationale\tCommercialisée\t15/03/2005\t\t\t LABO\tNon",
    "60000003\tKETOCONAZOLE ORAL 200 mg, comprimé\tcomprimé\torale\tAutorisation active\t"
    "Procédure nationale\tCommercialisée\t15/03/2005\t\t\t LABO\tNon",
    "60000004\tMETFORMINE/SITAGLIPTINE TEST, comprimé\tcomprimé\torale\tAutorisation active\t"
    "Procédure centralisée\tCommercialisée\t20/06/2012\t\t\t LABO\tNon",
]
CIP_LINES = [
    "60000001\t0123456\tplaquette(s) de 30 comprimé(s)\tPrésentation active\t"
    "Déclaration de commercialisation\t16/03/2011\t3400901234567\toui\t65%\t1,00\t2,02\t1,02\t",
    "60000001\t4000001\tplaquette(s) de 90 comprimé(s)\tPrésentation active\t"
    "Déclaration d'arrêt de commercialisation\t25/09/2019\t3400940000018\tnon\t\t\t\t\t",
    "60000002\t4000002\ttube de 15 g\tPrésentation active\tDéclaration de commercialisation\t"
    "01/01/2006\t3400940000025\toui\t30%\t1,00\t2,02\t1,02\t",
    "60000003\t4000003\tflacon de 10\tPrésentation active\tDéclaration de commercialisation\t"
    "01/01/2006\t3400940000032\toui\t65%\t1,00\t2,02\t1,02\t",
    "60000004\t4000004\tflacon de 28\tPrésentation active\tDéclaration de commercialisation\t"
    "01/01/2013\t3400940000049\toui\t65%\t1,00\t2,02\t1,02\t",
]
COMPO_LINES = [
    "60000001\tcomprimé\t24321\tCHLORHYDRATE DE METFORMINE\t1000 mg\tun comprimé\tSA\t1\t",
    "60000001\tcomprimé\t04442\tMETFORMINE\t780 mg\tun comprimé\tFT\t1\t",
    "60000002\tcrème\t01234\tKÉTOCONAZOLE\t2 g\t100 g de crème\tSA\t1\t",
    "60000003\tcomprimé\t01234\tKÉTOCONAZOLE\t200 mg\tun comprimé\tSA\t1\t",
    "60000004\tcomprimé\t24321\tCHLORHYDRATE DE METFORMINE\t1000 mg\tun comprimé\tSA\t1\t",
    # a stray tab in the dosage, as in three real lines
    "60000004\tcomprimé\t05555\tSITAGLIPTINE\t\t\t\t50 mg\tun comprimé\tSA\t2\t",
]
GENER_LINES = [
    "7\tMETFORMINE 1000 mg - GLUCOPHAGE 1000 mg, comprimé pelliculé\t60000001\t1\t2\t",
    # an empty extra field after the label, as in two real lines
    "8\tKETOCONAZOLE 200 mg - NIZORAL 200 mg, comprimé\t\t60000003\t0\t1\t",
]
MEDREF = [
    {
        "datepublication": "30/11/2021",
        "libelleucd": "METFORMINE HOSP 1000MG CPR",
        "ucd7": "9000294",
        "ucd13": "34008 9000294 3",
        "denominationcommuneinternationale": "Metformine",
        "codeatc": "A10BA02",
    },
    {
        "datepublication": "10/05/2005",
        "libelleucd": "KETOCONAZOLE HOSP 200MG CPR",
        "ucd7": "9000300",
        "ucd13": "3,40089E+12",
        "denominationcommuneinternationale": "Kétoconazole",
        "codeatc": "J02AB02 \xa0",
    },
    {
        "libelleucd": "SITAGLIPTINE HOSP",
        "ucd7": "9000301",
        "ucd13": "34008 9000301 7",
        "denominationcommuneinternationale": "Sitagliptine",
        "codeatc": "non encore attribué",
    },
]
NU_ITE_HEADER = "UCD_UCD_COD;UCD_SPE_LIB;UCD_RCP_LI1;UCD_RCP_LI2;PHA_ATC_CLA;PHA_ATC_LIB"
NU_ITE_ROW = (
    "0000009203408;AMBISOME 50MG PDR INJ 30ML;AMBISOME 50 MG, POUDRE POUR SUSPENSION;"
    ";J02AA01;AMPHOTERICINE B"
)


def write_bdpm(path: Path, lines: list[str], newline: str, encoding: str = "cp1252") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join([*lines, ""]).encode(encoding))


def make_root(tmp_path: Path, *, encoding: str = "cp1252") -> Path:
    root = tmp_path / "ref"
    bdpm = root / "bdpm"
    write_bdpm(bdpm / "CIS_bdpm.txt", CIS_LINES, "\r\n", encoding)
    write_bdpm(bdpm / "CIS_CIP_bdpm.txt", CIP_LINES, "\n", encoding)
    write_bdpm(bdpm / "CIS_COMPO_bdpm.txt", COMPO_LINES, "\r\n", encoding)
    write_bdpm(bdpm / "CIS_GENER_bdpm.txt", GENER_LINES, "\r\n", encoding)
    (root / "nomensland").mkdir()
    medref = root / "nomensland" / "mco_medref_atih_historique_liste_ucd.json.gz"
    medref.write_bytes(gzip.compress(json.dumps(MEDREF).encode()))
    oraref = root / "schema-snds" / "nomenclatures" / "ORAREF"
    oraref.mkdir(parents=True)
    (oraref / "NU_ITE_R.csv").write_text(f"{NU_ITE_HEADER}\n{NU_ITE_ROW}\n", encoding="utf-8")
    return root


@pytest.fixture
def small(tmp_path) -> TerminologyBatch:
    return load_drugs(make_root(tmp_path))


def test_cp1252_crlf_and_leading_zeros(small):
    cis = codes(small, "CIS")
    assert cis["60000002"].label == "KÉTOCONAZOLE TEST 2 %, crème"
    assert cis["60000001"].valid_from == date(2010, 2, 1)
    box = codes(small, "CIP13")["3400901234567"]
    assert (
        box.label == "METFORMINE TEST 1000 mg, comprimé pelliculé — plaquette(s) de 30 comprimé(s)"
    )
    assert "0123456" in codes(small, "CIP7")
    assert codes(small, "SUBSTANCE")["04442"].label == "METFORMINE"
    assert set(codes(small, "UCD")) == {
        "0000009000294",
        "0000009000300",
        "0000009000301",
        "0000009203408",
    }
    assert links(small, "CIP7_SAME_BOX_AS_CIP13")["0123456"] == {"3400901234567"}


def test_utf8_copies_read_the_same(tmp_path):
    as_cp1252 = load_drugs(make_root(tmp_path / "a"))
    as_utf8 = load_drugs(make_root(tmp_path / "b", encoding="utf-8"))
    assert as_utf8.concepts == as_cp1252.concepts


def test_marketing_dates(small):
    boxes = codes(small, "CIP13")
    assert (boxes["3400901234567"].valid_from, boxes["3400901234567"].valid_to) == (
        date(2011, 3, 16),
        None,
    )
    assert (boxes["3400940000018"].valid_from, boxes["3400940000018"].valid_to) == (
        None,
        date(2019, 9, 25),
    )


def test_quirky_lines_are_read(small):
    assert links(small, "CIS_HAS_SUBSTANCE")["60000004"] == {"24321", "05555"}
    groups = codes(small, "GENERIC_GROUP")
    assert groups["8"].label == "KETOCONAZOLE 200 mg - NIZORAL 200 mg, comprimé"
    assert links(small, "CIS_IN_GENERIC_GROUP") == {"60000001": {"7"}, "60000003": {"8"}}
    # the FT row is a substance, but products link to their SA only
    assert links(small, "CIS_HAS_SUBSTANCE")["60000001"] == {"24321"}


def test_metformin_box_gets_a10ba02_with_its_ancestors(small):
    assert links(small, "CIS_HAS_ATC")["60000001"] == {"A10BA02"}
    box_atc = links(small, "CIP13_HAS_ATC")
    assert box_atc["3400901234567"] == box_atc["3400940000018"] == {"A10BA02"}
    assert links(small, "SUBSTANCE_HAS_ATC")["24321"] == {"A10BA02"}
    assert links(small, "SUBSTANCE_HAS_ATC")["04442"] == {"A10BA02"}
    atc = codes(small, "ATC")
    chain, code = [], "A10BA02"
    while code:
        chain.append((code, atc[code].level))
        code = atc[code].parent
    assert chain == [("A10BA02", 5), ("A10BA", 4), ("A10B", 3), ("A10", 2), ("A", 1)]
    assert atc["A10BA02"].label == "Metformine"  # the DCI of its UCD
    assert atc["A10BA"].label == "Biguanides"  # no source label: the curated WHO one
    assert atc["J02AA01"].label == "AMPHOTERICINE B"  # NU_ITE_R PHA_ATC_LIB
    inferred = [r for r in small.relations if r.relation in INFERRED_RELATIONS]
    assert inferred and all(r.inferred for r in inferred)


def test_combinations_and_routes_limit_the_inference(small):
    atc_of = links(small, "CIS_HAS_ATC")
    assert atc_of["60000004"] == {"A10BD07"}  # metformin + sitagliptin is not A10BA02
    assert "60000002" not in atc_of  # a cream does not get the systemic J02AB02
    assert atc_of["60000003"] == {"J02AB02"}  # oral ketoconazole does
    assert links(small, "SUBSTANCE_HAS_ATC")["01234"] == {"J02AB02"}


def test_ucd_codes_and_substances(small):
    alt = {(s.code, s.text) for s in small.synonyms if s.kind == "alt_code"}
    assert ("0000009000294", "9000294") in alt
    assert ("0000009000294", "3400890002943") in alt
    assert not any(text.startswith("3,4") for _, text in alt)  # spreadsheet-mangled UCD13
    ucd_atc = links(small, "UCD_HAS_ATC")
    assert ucd_atc["0000009000300"] == {"J02AB02"}  # non-breaking space cleaned
    assert "0000009000301" not in ucd_atc  # "non encore attribué"
    ucd_sub = links(small, "UCD_HAS_SUBSTANCE")
    assert ucd_sub["0000009000294"] == {"04442"}
    assert ucd_sub["0000009000301"] == {"05555"}


def test_coverage_of_the_fixture(small):
    cov = drug_atc_coverage(small)
    # the metformin + sitagliptin box gets A10BD07 from the curated WHO subset
    assert (cov["cip13"], cov["cip13_with_atc"], cov["cip13_with_atc_percent"]) == (5, 4, 80.0)
    assert (cov["cis"], cov["cis_with_atc"]) == (4, 3)
    assert "ATC inferred for 80.0 % of boxes" in small.versions["CIP13"]
    assert small.versions["CIS"] == "BDPM extract (latest AMM 2012-06-20)"


def test_reference_ir_pha_r_replaces_the_inference(tmp_path):
    root = make_root(tmp_path)
    drees = root / "schema-snds" / "nomenclatures" / "DREES"
    drees.mkdir(parents=True)
    (drees / "IR_PHA_R.csv").write_text(
        "PHA_CIP_C13;PHA_MED_NOM;PHA_ATC_C07;PHA_ATC_L07;PHA_ATC_C03;PHA_ATC_L03\n"
        "3400901234567;METFORMINE TEST;A10BA02;METFORMINE;A10;MEDICAMENTS DU DIABETE\n"
        "3400999999996;ANCIENNE BOITE;C07AB07;BISOPROLOL;C07;BETABLOQUANTS\n",
        encoding="utf-8",
    )
    batch = load_drugs(root)
    box_links = [r for r in batch.relations if r.relation == "CIP13_HAS_ATC"]
    assert {(r.code_1, r.code_2, r.inferred) for r in box_links} == {
        ("3400901234567", "A10BA02", False),
        ("3400999999996", "C07AB07", False),
    }
    assert not links(batch, "CIS_HAS_ATC")
    assert codes(batch, "CIP13")["3400999999996"].label == "ANCIENNE BOITE"
    atc = codes(batch, "ATC")
    assert atc["A10BA02"].label == "METFORMINE" and atc["A10"].label == "MEDICAMENTS DU DIABETE"
    assert "ATC from IR_PHA_R for 33.3 % of boxes" in batch.versions["CIP13"]


def test_missing_sources_give_fewer_concepts(tmp_path):
    empty = load_drugs(tmp_path)
    assert empty == TerminologyBatch([], [], [], {})
    write_bdpm(tmp_path / "bdpm" / "CIS_bdpm.txt", CIS_LINES, "\r\n")
    only_products = load_drugs(tmp_path)
    assert {c.vocabulary for c in only_products.concepts} == {"CIS"}
    assert set(only_products.versions) == {"CIS"}


@pytest.mark.parametrize(
    ("name", "line", "bad", "where"),
    [
        ("CIS_CIP_bdpm.txt", 2, CIP_LINES[1].replace("3400940000018", "340094000001"), "CIP13"),
        ("CIS_COMPO_bdpm.txt", 3, COMPO_LINES[2].replace("\tSA\t", "\t\t"), "nature"),
        ("CIS_bdpm.txt", 4, "60000004\tTRONQUÉ\tcomprimé", None),
        ("CIS_bdpm.txt", 1, CIS_LINES[0].replace("01/02/2010", "31/02/2010"), "date AMM"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, name, line, bad, where):
    root = make_root(tmp_path)
    source = {
        "CIS_bdpm.txt": CIS_LINES,
        "CIS_CIP_bdpm.txt": CIP_LINES,
        "CIS_COMPO_bdpm.txt": COMPO_LINES,
    }[name]
    lines = list(source)
    lines[line - 1] = bad
    write_bdpm(root / "bdpm" / name, lines, "\r\n")
    with pytest.raises(SndskitError) as raised:
        load_drugs(root)
    assert raised.value.file.endswith(name) and raised.value.line == line
    assert raised.value.field == where
