"""SQL (sqlglot) for each event source: one row per (person, event date, code).

Every query reads only the columns it needs, pushes the code list and the date and flux
windows into the scan, and applies the quality filters the preset names. DCIR details are
joined to ER_PRS_F on the 9 flux keys; the ER_ETE_F filter is a semi-join (NOT EXISTS), never
a denormalising join.
"""

from __future__ import annotations

from sqlglot import exp

from sndskit.catalog.names import instantiate
from sndskit.cohorts.context import CompileContext, finess_duplicates
from sndskit.cohorts.spec import Event
from sndskit.engines.occurrences import FLUX_KEYS

STAY_KEYS = ("ETA_NUM", "RSA_NUM")
LAST_ARCHIVE_YEAR = 2012  # DCIR flux years before 2013 live in ER_xxx_F_AAAA tables
PLACEHOLDER_NIR = ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD", "XXXXXXXXXXXXXXXXS")
RETURN_CODES = ("NIR_RET", "NAI_RET", "SEX_RET", "SEJ_RET", "FHO_RET", "PMS_RET", "DAT_RET")
# detail table, code column (CIP7 column for drugs), quantity column
DCIR_DETAILS = {
    "drug_dispensing": ("ER_PHA_F", "PHA_PRS_C13", "PHA_PRS_IDE", "PHA_ACT_QSN"),
    "hospital_drug": ("ER_UCD_F", "UCD_UCD_COD", None, "UCD_DLV_NBR"),
    "procedure": ("ER_CAM_F", "CAM_PRS_IDE", None, None),
    "biology": ("ER_BIO_F", "BIO_PRS_IDE", None, None),
}


def _date(value) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def _codes(values: list[str]) -> list[exp.Literal]:
    return [exp.Literal.string(v) for v in values]


def _not_in_nullsafe(column: exp.Expression, values: list[int]) -> exp.Expression:
    return exp.or_(
        column.is_(exp.null()), exp.not_(column.isin(*(exp.Literal.number(v) for v in values)))
    )


def _keys_equal(
    ctx: CompileContext, left: tuple[str, str], right: tuple[str, str], keys
) -> exp.Expression:
    """Key equality; columns typed differently in the two tables are compared as text."""
    (la, lt), (ra, rt) = left, right
    parts = []
    for key in keys:
        ctx.use(lt, key)
        ctx.use(rt, key)
        if ctx.is_string(lt, key) == ctx.is_string(rt, key):
            parts.append(exp.column(key, la).eq(exp.column(key, ra)))
        else:
            parts.append(ctx.text(la, lt, key).eq(ctx.text(ra, rt, key)))
    return exp.and_(*parts)


def dcir_events(ctx: CompileContext, event: Event, codes: dict[str, list[str]]) -> list[exp.Select]:
    """One query per DCIR generation read: the current tables and, for flux years before
    2013, the archive tables (``ER_PRS_F_2012`` …) present in the data (primer §1)."""
    detail = DCIR_DETAILS[event.source][0]
    parts = [_dcir_part(ctx, event, codes, detail, "ER_PRS_F", "ER_ETE_F")]
    for year in range(ctx.flux_lo.year, min(ctx.flux_hi.year, LAST_ARCHIVE_YEAR) + 1):
        tables = (f"{detail}_{year}", f"ER_PRS_F_{year}", f"ER_ETE_F_{year}")
        if ctx.columns is not None and all(ctx.has(t) for t in tables[:2]):
            parts.append(_dcir_part(ctx, event, codes, *tables))
    return parts


def _dcir_part(
    ctx: CompileContext, event: Event, codes: dict[str, list[str]], table: str, prs: str, ete: str
) -> exp.Select:
    _, code_col, cip7_col, qty_col = DCIR_DETAILS[event.source]
    main_vocab = {
        "drug_dispensing": "CIP13",
        "hospital_drug": "UCD",
        "procedure": "CCAM",
        "biology": "NABM",
    }[event.source]
    code = ctx.text("d", table, code_col)
    matches = [code.isin(*_codes(codes.get(main_vocab, [])))] if codes.get(main_vocab) else []
    code_value: exp.Expression = code
    cip7_years = ctx.lo.year <= ctx.spec.snds.cip7_until_year
    if cip7_col and codes.get("CIP7") and cip7_years:
        # Older lines may carry only the CIP7 (primer §5); matching it costs an OR in the
        # scan, so only windows reaching those years pay for it.
        cip7 = ctx.text("d", table, cip7_col)
        last_day = _date(ctx.lo.replace(year=ctx.spec.snds.cip7_until_year, month=12, day=31))
        old_line = ctx.as_date("p", prs, "EXE_SOI_DTD") <= last_day
        matches.append(exp.and_(old_line, cip7.isin(*_codes(codes["CIP7"]))))
        main = (
            code.isin(*_codes(codes.get(main_vocab, []))) if codes.get(main_vocab) else exp.false()
        )
        code_value = exp.Case(ifs=[exp.If(this=main, true=code)], default=cip7)
    day = ctx.as_date("p", prs, "EXE_SOI_DTD")
    ctx.use(prs, "EXE_SOI_DTD", "FLX_DIS_DTD", "BEN_NIR_PSA", "BEN_RNG_GEM")
    if qty_col:
        ctx.use(table, qty_col)
        quantity = exp.column(qty_col, "d")
    else:
        ctx.use(prs, "PRS_ACT_QTE")
        quantity = exp.column("PRS_ACT_QTE", "p")
    query = (
        exp.select(
            exp.column("person_id", "m"),
            exp.alias_(day, "event_date"),
            exp.alias_(code_value, "code"),
            exp.alias_(exp.Sum(this=quantity), "quantity"),
            exp.alias_(exp.Count(this=exp.Star()), "records"),
        )
        .from_(exp.to_table(table).as_("d"))
        .join(
            exp.to_table(prs).as_("p"),
            on=_keys_equal(ctx, ("d", table), ("p", prs), FLUX_KEYS),
        )
        .join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = p.BEN_NIR_PSA AND m.BEN_RNG_GEM = p.BEN_RNG_GEM",
        )
        .where(exp.or_(*matches) if matches else exp.false())
        .where(exp.column("FLX_DIS_DTD", "p").between(_date(ctx.flux_lo), _date(ctx.flux_hi)))
        .where(day.between(_date(ctx.lo), _date(ctx.hi)))
        .group_by("m.person_id", day, code_value)
    )
    if event.source == "hospital_drug" and ctx.on("dcir_ucd_information_lines"):
        ctx.use(prs, "DPN_QLF")
        query = query.where(_not_in_nullsafe(exp.column("DPN_QLF", "p"), [71, 72]))
    elif ctx.on("dcir_information_lines"):
        ctx.use(prs, "DPN_QLF", "PRS_DPN_QLP")
        query = query.where(_not_in_nullsafe(exp.column("DPN_QLF", "p"), [71]))
        query = query.where(_not_in_nullsafe(exp.column("PRS_DPN_QLP", "p"), [71]))
    if ctx.on("dcir_no_nature"):
        ctx.use(prs, "BSE_PRS_NAT")
        query = query.where(_not_in_nullsafe(exp.column("BSE_PRS_NAT", "p"), [0]))
    if ctx.on("dcir_private_hospital_taa") and ctx.has(ete):
        ctx.use(ete, "ETE_IND_TAA")
        taa = (
            exp.select("1")
            .from_(exp.to_table(ete).as_("e"))
            .where(_keys_equal(ctx, ("e", ete), ("p", prs), FLUX_KEYS))
            .where(exp.column("ETE_IND_TAA", "e").eq(exp.Literal.number(1)))
        )
        query = query.where(exp.not_(exp.Exists(this=taa)))
    if ctx.on("dcir_regularisations"):
        query = query.having(exp.Sum(this=quantity.copy()) > exp.Literal.number(0))
    return query


def _stay_filters(ctx: CompileContext, stays: str) -> list[exp.Expression]:
    out = []
    if ctx.on("pmsi_duplicate_finess"):
        finess = finess_duplicates(ctx.spec.snds.finess_duplicates)
        if finess:
            out.append(exp.not_(ctx.text("s", stays, "ETA_NUM").isin(*_codes(list(finess)))))
    if ctx.on("pmsi_error_ghm"):
        ghm = ctx.text("s", stays, "GRG_GHM")
        out.append(
            exp.or_(
                ghm.is_(exp.null()),
                exp.not_(exp.StartsWith(this=ghm.copy(), expression=exp.Literal.string("90"))),
            )
        )
    if ctx.on("pmsi_session_stays"):
        ctx.use(stays, "SEJ_TYP")
        sej = exp.column("SEJ_TYP", "s")
        keep = exp.or_(sej.is_(exp.null()), sej.neq(exp.Literal.string("B")))
        if ctx.spec.snds.quality_filters == "scalpel":  # SCALPEL keeps sessions of GHM 28
            keep = exp.or_(
                keep,
                exp.StartsWith(
                    this=ctx.text("s", stays, "GRG_GHM"), expression=exp.Literal.string("28")
                ),
            )
        out.append(keep)
    return out


def _identity_filters(ctx: CompileContext, patients: str) -> list[exp.Expression]:
    if not ctx.on("pmsi_invalid_identity"):
        return []
    nir = ctx.text("c", patients, "NIR_ANO_17")
    out = [exp.not_(nir.isin(*_codes(list(PLACEHOLDER_NIR))))]
    for column in RETURN_CODES:
        if ctx.columns is not None and column not in ctx.columns.get(patients, {}):
            continue  # older years lack some return codes
        if ctx.is_boolean(patients, column):  # the schema types them boolean: true = error
            ctx.use(patients, column)
            out.append(exp.not_(exp.func("coalesce", exp.column(column, "c"), exp.false())))
        else:
            code = exp.func("coalesce", ctx.text("c", patients, column), exp.Literal.string("0"))
            out.append(code.eq(exp.Literal.string("0")))
    return out


def _text_keys(ctx: CompileContext, alias: str, table: str) -> list[exp.Expression]:
    """Stay keys as text, so rows of tables typing them differently line up (primer §1)."""
    return [exp.alias_(ctx.text(alias, table, key), key) for key in STAY_KEYS]


def _pmsi_frame(
    ctx: CompileContext, year: int, codes_rows: exp.Select, event_day: str = "EXE_SOI_DTD"
) -> exp.Select:
    """Person and date of the stays listed by ``codes_rows`` (ETA_NUM, RSA_NUM, code, role)."""
    stays, patients = instantiate("T_MCOaaB", year), instantiate("T_MCOaaC", year)
    ctx.use(patients, "NIR_ANO_17", event_day)
    day = ctx.as_date("c", patients, event_day)
    return (
        exp.select(exp.column("person_id", "m"), exp.alias_(day, "event_date"), "x.code", "x.role")
        .from_(codes_rows.subquery("x"))
        .join(
            exp.to_table(stays).as_("s"),
            on=exp.and_(*(exp.column(k, "x").eq(ctx.text("s", stays, k)) for k in STAY_KEYS)),
        )
        .join(
            exp.to_table(patients).as_("c"),
            on=_keys_equal(ctx, ("s", stays), ("c", patients), STAY_KEYS),
        )
        .join(
            exp.to_table("pmsi_person").as_("m"),
            on=exp.column("BEN_NIR_PSA", "m").eq(ctx.text("c", patients, "NIR_ANO_17")),
        )
        .where(*_stay_filters(ctx, stays), *_identity_filters(ctx, patients))
        .where(day.between(_date(ctx.lo), _date(ctx.hi)))
    )


def _years(ctx: CompileContext, *templates: str) -> list[int]:
    return [y for y in ctx.pmsi_years if all(ctx.has(instantiate(t, y)) for t in templates)]


def diagnosis_events(ctx: CompileContext, event: Event, codes: list[str]) -> list[exp.Select]:
    """Stays with a listed code in the roles asked: DP, DR (T_MCOaaB), DAS = associated
    diagnoses (T_MCOaaD) ∪ per-unit diagnoses (T_MCOaaUM) minus the stay's DP."""
    parts = []
    for year in _years(ctx, "T_MCOaaB", "T_MCOaaC"):
        stays = instantiate("T_MCOaaB", year)
        rows: list[exp.Select] = []
        for role, column in (("DP", "DGN_PAL"), ("DR", "DGN_REL")):
            if role in event.roles:
                code = ctx.text("t", stays, column)
                rows.append(
                    exp.select(
                        *_text_keys(ctx, "t", stays),
                        exp.alias_(code, "code"),
                        exp.alias_(exp.Literal.string(role), "role"),
                    )
                    .from_(exp.to_table(stays).as_("t"))
                    .where(code.copy().isin(*_codes(codes)))
                )
        if "DAS" in event.roles:
            for template, columns in (
                ("T_MCOaaD", ["ASS_DGN"]),
                ("T_MCOaaUM", ["DGN_PAL", "DGN_REL"]),
            ):
                table = instantiate(template, year)
                if not ctx.has(table):
                    continue
                for column in columns:
                    code = ctx.text("t", table, column)
                    dp = ctx.text("b", stays, "DGN_PAL")
                    rows.append(
                        exp.select(
                            *_text_keys(ctx, "t", table),
                            exp.alias_(code, "code"),
                            exp.alias_(exp.Literal.string("DAS"), "role"),
                        )
                        .from_(exp.to_table(table).as_("t"))
                        .join(
                            exp.to_table(stays).as_("b"),
                            on=_keys_equal(ctx, ("t", table), ("b", stays), STAY_KEYS),
                        )
                        .where(code.copy().isin(*_codes(codes)))
                        .where(exp.or_(dp.is_(exp.null()), dp.neq(code.copy())))
                    )
        if rows:
            union = rows[0]
            for part in rows[1:]:
                union = exp.union(union, part, distinct=False)
            parts.append(
                _pmsi_frame(
                    ctx,
                    year,
                    union
                    if isinstance(union, exp.Select)
                    else exp.select("*").from_(union.subquery("u")),
                )
            )
    return parts


def pmsi_procedure_events(ctx: CompileContext, codes: list[str]) -> list[exp.Select]:
    parts = []
    for year in _years(ctx, "T_MCOaaA", "T_MCOaaB", "T_MCOaaC"):
        table = instantiate("T_MCOaaA", year)
        code = ctx.text("t", table, "CDC_ACT")
        rows = (
            exp.select(
                *_text_keys(ctx, "t", table),
                exp.alias_(code, "code"),
                exp.alias_(exp.Literal.string("ACT"), "role"),
            )
            .from_(exp.to_table(table).as_("t"))
            .where(code.copy().isin(*_codes(codes)))
        )
        parts.append(_pmsi_frame(ctx, year, rows))
    return parts


def long_term_events(ctx: CompileContext, codes: list[str]) -> exp.Select:
    """ALD registrations (IR_IMB_R) on a listed CIM-10 code, not for work accident,
    occupational disease or disability (IMB_ETM_NAT 11, 12, 13); dated at their start."""
    ctx.use("IR_IMB_R", "BEN_NIR_PSA", "BEN_RNG_GEM", "IMB_ALD_DTD", "IMB_ETM_NAT")
    code = ctx.text("t", "IR_IMB_R", "MED_MTF_COD")
    day = ctx.as_date("t", "IR_IMB_R", "IMB_ALD_DTD")
    return (
        exp.select(
            exp.column("person_id", "m"),
            exp.alias_(day, "event_date"),
            exp.alias_(code, "code"),
            exp.alias_(exp.Literal.string("ALD"), "role"),
        )
        .from_(exp.to_table("IR_IMB_R").as_("t"))
        .join(
            exp.to_table("nir_person").as_("m"),
            on="m.BEN_NIR_PSA = t.BEN_NIR_PSA AND m.BEN_RNG_GEM = t.BEN_RNG_GEM",
        )
        .where(code.copy().isin(*_codes(codes)))
        .where(_not_in_nullsafe(exp.column("IMB_ETM_NAT", "t"), [11, 12, 13]))
        .where(day.between(_date(ctx.lo), _date(ctx.hi)))
    )


def death_events(ctx: CompileContext) -> list[exp.Select]:
    """Deaths from the beneficiary table and from hospital discharges (SOR_MOD = 9)."""
    parts = [
        exp.select(
            "person_id",
            exp.alias_(exp.column("death_date"), "event_date"),
            exp.alias_(exp.Literal.string("DEATH"), "code"),
            exp.alias_(exp.Literal.string("IR_BEN_R"), "role"),
        )
        .from_("persons")
        .where(exp.column("death_date").between(_date(ctx.lo), _date(ctx.hi)))
    ]
    for year in _years(ctx, "T_MCOaaB", "T_MCOaaC"):
        stays = instantiate("T_MCOaaB", year)
        rows = (
            exp.select(
                *_text_keys(ctx, "t", stays),
                exp.alias_(exp.Literal.string("DEATH"), "code"),
                exp.alias_(exp.Literal.string("SOR_MOD=9"), "role"),
            )
            .from_(exp.to_table(stays).as_("t"))
            .where(ctx.text("t", stays, "SOR_MOD").eq(exp.Literal.string("9")))
        )
        parts.append(_pmsi_frame(ctx, year, rows, event_day="EXE_SOI_DTF"))
    return parts
