"""The CDM 5.4 tables as sqlglot queries over the staging steps (docs/omop_etl.md).

Every table lists all its CDM fields (:func:`cdm_select`); ids are 63-bit hashes of the
natural key (:func:`stable_id`); source codes go through ``OMOP_CODE_MAP`` (source concept
and "Maps to" targets from the mapping store, one row per target): an unmapped code keeps
``*_concept_id = 0`` with its ``*_source_concept_id``.
"""

from __future__ import annotations

from sqlglot import exp

from sndskit.omop.etl.cdm import cdm_select, etl_concepts
from sndskit.omop.etl.sql import literal, stable_id, union_all

CODE_MAP = "OMOP_CODE_MAP"
# One dispensing covers about a month (R5123-2 CSP): a box of 20-100 units is taken one unit
# a day; other packs (pens, vials, small or large packs) count 30 days per box.
UNIT_DAYS = (20, 100)
BOX_DAYS = 30


def _pid(column: str = "person_id", table: str | None = None) -> exp.Expression:
    return stable_id(literal("person"), exp.column(column, table))


def _c(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table)


def _coalesce0(expression: exp.Expression) -> exp.Expression:
    return exp.func("coalesce", expression, literal(0))


def _map_join(query: exp.Select, vocabulary: str, code: exp.Expression, alias: str = "c"):
    on = exp.and_(_c("vocabulary", alias).eq(literal(vocabulary)), _c("code", alias).eq(code))
    return query.join(exp.to_table(CODE_MAP).as_(alias), on=on, join_type="left")


def _anon(name: str, *args: exp.Expression) -> exp.Expression:
    """GREATEST/LEAST as both engines define them (NULL arguments skipped)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _add_days(day: exp.Expression, days: exp.Expression) -> exp.Expression:
    return exp.cast(exp.DateAdd(this=day, expression=days, unit=exp.var("DAY")), "DATE")


def _visit_link(query: exp.Select, alias: str, day: exp.Expression, concepts: list[int]):
    """LEFT JOIN the visit of the same person and day among ``concepts`` (smallest id)."""
    visits = (
        exp.select(
            "person_id",
            "visit_start_date",
            exp.alias_(exp.Min(this=_c("visit_occurrence_id")), "visit_occurrence_id"),
        )
        .from_("cdm_visit_occurrence")
        .where(_c("visit_concept_id").isin(*(literal(c) for c in concepts)))
        .group_by("person_id", "visit_start_date")
    )
    on = exp.and_(_c("person_id", alias).eq(_c("pid", "e")), _c("visit_start_date", alias).eq(day))
    return query.join(visits.subquery(alias), on=on, join_type="left")


def person() -> exp.Select:
    gender = etl_concepts()["gender"]
    sex = _c("sex", "p")
    return cdm_select(
        "person",
        {
            "person_id": _pid("person_id", "p"),
            "gender_concept_id": exp.Case(
                ifs=[exp.If(this=sex.eq(literal(k)), true=literal(v)) for k, v in gender.items()],
                default=literal(0),
            ),
            "year_of_birth": _c("birth_year", "p"),
            "race_concept_id": 0,  # not collected in France
            "ethnicity_concept_id": 0,
            "person_source_value": _c("person_id", "p"),
            "gender_source_value": sex.copy(),
        },
    ).from_(exp.to_table("persons").as_("p"))


def death() -> exp.Select:
    """One death per person: KI_CCI_R (certificate) first, then IR_BEN_R, then an MCO
    discharge by death (SOR_MOD = 9); the earliest date within the chosen source."""
    types = etl_concepts()["type"]
    rank = exp.Case(
        ifs=[
            exp.If(this=_c("source", "d").eq(literal("KI_CCI_R")), true=literal(1)),
            exp.If(this=_c("source", "d").eq(literal("IR_BEN_R")), true=literal(2)),
        ],
        default=literal(3),
    )
    order = exp.Window(
        this=exp.RowNumber(),
        partition_by=[_c("person_id", "d")],
        order=exp.Order(
            expressions=[exp.Ordered(this=rank), exp.Ordered(this=_c("event_date", "d"))]
        ),
    )
    ranked = (
        exp.select("d.*", exp.alias_(order, "n"))
        .from_(exp.to_table("etl_death_sources").as_("d"))
        .join(exp.to_table("persons").as_("p"), on="p.person_id = d.person_id")
        .where(_c("event_date", "d").is_(exp.null()).not_())
    )
    source = _c("source", "e")
    query = (
        cdm_select(
            "death",
            {
                "person_id": _pid("person_id", "e"),
                "death_date": _c("event_date", "e"),
                "death_type_concept_id": exp.Case(
                    ifs=[
                        exp.If(
                            this=source.eq(literal("KI_CCI_R")),
                            true=literal(types["death_certificate"]),
                        ),
                        exp.If(
                            this=source.copy().eq(literal("IR_BEN_R")),
                            true=literal(types["claim_enrolment"]),
                        ),
                    ],
                    default=literal(types["claim_discharge"]),
                ),
                "cause_concept_id": exp.Case(
                    ifs=[
                        exp.If(
                            this=_c("cause", "e").is_(exp.null()).not_(),
                            true=_coalesce0(_c("concept_id", "c")),
                        )
                    ],
                ),
                "cause_source_value": _c("cause", "e"),
                "cause_source_concept_id": _c("source_concept_id", "c"),
            },
        )
        .from_(ranked.subquery("e"))
        .where(_c("n", "e").eq(literal(1)))
    )
    query = _map_join(query, "CIM10", _c("cause", "e"))
    return _first_target(query, "e", "c")


def _first_target(query: exp.Select, alias: str, map_alias: str) -> exp.Select:
    """Death has one row per person: a cause mapped to several targets keeps the smallest."""
    smallest = (
        exp.select(exp.Min(this=_c("concept_id", "c2")))
        .from_(exp.to_table(CODE_MAP).as_("c2"))
        .where(_c("vocabulary", "c2").eq(_c("vocabulary", map_alias)))
        .where(_c("code", "c2").eq(_c("code", map_alias)))
    )
    return query.where(
        exp.or_(
            _c("concept_id", map_alias).is_(exp.null()),
            _c("concept_id", map_alias).eq(smallest.subquery()),
        )
    )


def observation_period() -> exp.Select:
    """SNDS covers every resident: one period per person from the first day of claims (or
    1 January of the birth year) to the last day of claims (or death)."""
    birth = exp.func("make_date", _c("year_of_birth", "p"), literal(1), literal(1))
    start = _anon("GREATEST", _c("first_date", "s"), birth)
    end = _anon("LEAST", _c("last_date", "s"), _c("death_date", "d"))
    return (
        cdm_select(
            "observation_period",
            {
                "observation_period_id": stable_id(
                    literal("observation_period"), _c("person_id", "p")
                ),
                "person_id": _c("person_id", "p"),
                "observation_period_start_date": start,
                "observation_period_end_date": end,
                "period_type_concept_id": etl_concepts()["type"]["standard_algorithm"],
            },
        )
        .from_(exp.to_table("cdm_person").as_("p"))
        .join(exp.to_table("etl_span").as_("s"), join_type="cross")
        .join(exp.to_table("cdm_death").as_("d"), on="d.person_id = p.person_id", join_type="left")
        .where(start.copy() <= end.copy())
    )


def span() -> exp.Select:
    """First and last day of claims (DCIR and PMSI records; ALD registrations, which go back
    decades, are history recorded before the observation period)."""
    parts = [
        exp.select(exp.alias_(_c(column), "day")).from_(step)
        for step, column in (
            ("etl_drug_cip13", "event_date"),
            ("etl_drug_ucd", "event_date"),
            ("etl_procedure_dcir", "event_date"),
            ("etl_biology", "event_date"),
            ("etl_diagnoses", "event_date"),
            ("etl_stays", "end_date"),
            ("etl_dcir_visits", "visit_date"),
        )
    ]
    days = union_all(parts).subquery("u")
    return exp.select(
        exp.alias_(exp.Min(this=_c("day")), "first_date"),
        exp.alias_(exp.Max(this=_c("day")), "last_date"),
    ).from_(days)


def visit_occurrence() -> exp.Expression:
    concepts, types = etl_concepts()["visit"], etl_concepts()["type"]
    stays = cdm_select(
        "visit_occurrence",
        {
            "visit_occurrence_id": stable_id(literal("MCO"), "eta_num", "rsa_num", "year"),
            "person_id": _pid(),
            "visit_concept_id": concepts["inpatient"],
            "visit_start_date": "start_date",
            "visit_end_date": "end_date",
            "visit_type_concept_id": types["claim_discharge"],
            "care_site_id": stable_id(literal("ETA"), "eta_num"),
            "visit_source_value": exp.func("concat", _c("eta_num"), literal(":"), _c("rsa_num")),
            "admitted_from_source_value": "ent_mod",
            "discharged_to_source_value": "sor_mod",
        },
    ).from_("etl_stays")
    provider = _c("provider")
    dcir = cdm_select(
        "visit_occurrence",
        {
            "visit_occurrence_id": stable_id(
                literal("DCIR"), "person_id", "visit_date", "provider", "visit_concept_id"
            ),
            "person_id": _pid(),
            "visit_concept_id": "visit_concept_id",
            "visit_start_date": "visit_date",
            "visit_end_date": "visit_date",
            "visit_type_concept_id": types["claim"],
            "provider_id": exp.Case(
                ifs=[
                    exp.If(
                        this=provider.is_(exp.null()).not_(),
                        true=stable_id(literal("PFS"), provider.copy()),
                    )
                ]
            ),
            "visit_source_value": literal("DCIR"),
        },
    ).from_("etl_dcir_visits")
    return union_all([stays, dcir])


def condition_occurrence(ald_periods: bool = True) -> exp.Expression:
    """PMSI diagnoses (status by role, linked to the stay starting that day) and ALD
    registrations (start and end of the registration: ``etl_ald_periods``)."""
    status, types = etl_concepts()["condition_status"], etl_concepts()["type"]
    inpatient = etl_concepts()["visit"]["inpatient"]
    parts = []
    for step, type_concept in (
        ("etl_diagnoses", types["claim_discharge"]),
        ("etl_ald", types["claim_enrolment"]),
    ):
        rows = (
            exp.select("person_id", "event_date", "code", "role", exp.alias_(_pid(), "pid"))
            .from_(step)
            .distinct()
        )
        role = _c("role", "e")
        values = {
            "condition_occurrence_id": stable_id(
                literal("condition"),
                _c("person_id", "e"),
                _c("event_date", "e"),
                _c("code", "e"),
                role,
                _c("concept_id", "c"),
            ),
            "person_id": _c("pid", "e"),
            "condition_concept_id": _coalesce0(_c("concept_id", "c")),
            "condition_start_date": _c("event_date", "e"),
            "condition_type_concept_id": type_concept,
            "condition_status_concept_id": exp.Case(
                ifs=[
                    exp.If(this=role.copy().eq(literal(k)), true=literal(v))
                    for k, v in status.items()
                ],
                default=literal(0),
            ),
            "condition_source_value": _c("code", "e"),
            "condition_source_concept_id": _coalesce0(_c("source_concept_id", "c")),
            "condition_status_source_value": role.copy(),
        }
        if step == "etl_diagnoses":
            values["visit_occurrence_id"] = _c("visit_occurrence_id", "v")
        elif ald_periods:
            values["condition_end_date"] = exp.Nullif(
                this=_c("end_date", "a"), expression=exp.cast(literal("9999-12-31"), "DATE")
            )
        query = cdm_select("condition_occurrence", values).from_(rows.subquery("e"))
        query = _map_join(query, "CIM10", _c("code", "e"))
        if step == "etl_diagnoses":
            query = _visit_link(query, "v", _c("event_date", "e"), [inpatient])
        elif ald_periods:
            on = exp.and_(*(_c(k, "a").eq(_c(k, "e")) for k in ("person_id", "event_date", "code")))
            query = query.join(exp.to_table("etl_ald_periods").as_("a"), on=on, join_type="left")
        parts.append(query)
    return union_all(parts)


def drug_exposure() -> exp.Expression:
    """CIP13 dispensings: quantity = netted boxes × units per box, days supply from the pack
    (see UNIT_DAYS); UCD hospital drugs: quantity = units delivered, one day."""
    types, pharmacy = etl_concepts()["type"], etl_concepts()["visit"]["pharmacy"]
    parts = []
    for step, vocabulary in (("etl_drug_cip13", "CIP13"), ("etl_drug_ucd", "UCD")):
        rows = exp.select("*", exp.alias_(_pid(), "pid")).from_(step)
        units, boxes = _c("units", "c"), _c("quantity", "e")
        if vocabulary == "CIP13":
            quantity = exp.Mul(this=boxes, expression=exp.func("coalesce", units, literal(1)))
            per_box = exp.Case(
                ifs=[
                    exp.If(
                        this=units.copy().between(literal(UNIT_DAYS[0]), literal(UNIT_DAYS[1])),
                        true=units.copy(),
                    )
                ],
                default=literal(BOX_DAYS),
            )
            days = exp.cast(exp.Mul(this=boxes.copy(), expression=per_box), "INT")
        else:
            quantity, days = boxes, literal(1)
        values = {
            "drug_exposure_id": stable_id(
                literal("drug"),
                literal(vocabulary),
                _c("person_id", "e"),
                _c("event_date", "e"),
                _c("code", "e"),
                _c("concept_id", "c"),
            ),
            "person_id": _c("pid", "e"),
            "drug_concept_id": _coalesce0(_c("concept_id", "c")),
            "drug_exposure_start_date": _c("event_date", "e"),
            "drug_exposure_end_date": _add_days(
                _c("event_date", "e"), exp.Sub(this=exp.paren(days.copy()), expression=literal(1))
            ),
            "drug_type_concept_id": types["claim"],
            "quantity": quantity,
            "days_supply": days,
            "drug_source_value": _c("code", "e"),
            "drug_source_concept_id": _coalesce0(_c("source_concept_id", "c")),
        }
        if vocabulary == "CIP13":
            values["visit_occurrence_id"] = _c("visit_occurrence_id", "v")
        query = cdm_select("drug_exposure", values).from_(rows.subquery("e"))
        query = _map_join(query, vocabulary, _c("code", "e"))
        if vocabulary == "CIP13":
            query = _visit_link(query, "v", _c("event_date", "e"), [pharmacy])
        parts.append(query)
    return union_all(parts)


def procedure_occurrence() -> exp.Select:
    """CCAM acts of DCIR and PMSI (act date = entry + ENT_DAT_DEL); an act on the same person,
    day and code in both (private clinics) is kept once, as the PMSI's."""
    types, visits = etl_concepts()["type"], etl_concepts()["visit"]
    no_visit = exp.alias_(exp.cast(exp.null(), "BIGINT"), "visit_occurrence_id")
    both = union_all(
        [
            exp.select("person_id", "event_date", "code", exp.alias_(literal("DCIR"), "source"),
                       no_visit).from_("etl_procedure_dcir"),
            exp.select("person_id", "event_date", "code", exp.alias_(literal("PMSI"), "source"),
                       "visit_occurrence_id").from_("etl_procedure_pmsi"),
        ]
    )  # fmt: skip
    rows = (
        exp.select(
            "person_id", "event_date", "code",
            exp.alias_(exp.Max(this=_c("source")), "source"),
            exp.alias_(exp.Min(this=_c("visit_occurrence_id")), "stay_visit"),
            exp.alias_(_pid(), "pid"),
        )
        .from_(both.subquery("b"))
        .group_by("person_id", "event_date", "code")
    )  # fmt: skip
    from_pmsi = _c("source", "e").eq(literal("PMSI"))
    query = cdm_select(
        "procedure_occurrence",
        {
            "procedure_occurrence_id": stable_id(
                literal("procedure"), _c("person_id", "e"), _c("event_date", "e"),
                _c("code", "e"), _c("concept_id", "c"),
            ),
            "person_id": _c("pid", "e"),
            "procedure_concept_id": _coalesce0(_c("concept_id", "c")),
            "procedure_date": _c("event_date", "e"),
            "procedure_type_concept_id": exp.Case(
                ifs=[exp.If(this=from_pmsi, true=literal(types["claim_discharge"]))],
                default=literal(types["claim"]),
            ),
            "visit_occurrence_id": exp.func(
                "coalesce", _c("stay_visit", "e"), _c("visit_occurrence_id", "vo")
            ),
            "procedure_source_value": _c("code", "e"),
            "procedure_source_concept_id": _coalesce0(_c("source_concept_id", "c")),
        },
    ).from_(rows.subquery("e"))  # fmt: skip
    query = _map_join(query, "CCAM", _c("code", "e"))
    return _visit_link(
        query, "vo", _c("event_date", "e"), [visits["outpatient"], visits["telehealth"]]
    )


def measurement() -> exp.Select:
    """NABM biology acts (no result values in the SNDS); codes compared 4 digits wide."""
    lab = etl_concepts()["visit"]["laboratory"]
    code = exp.func("lpad", _c("code"), literal(4), literal("0"))
    rows = exp.select(
        "person_id", "event_date", exp.alias_(code, "code"), exp.alias_(_pid(), "pid")
    ).from_("etl_biology")
    query = cdm_select(
        "measurement",
        {
            "measurement_id": stable_id(
                literal("measurement"),
                _c("person_id", "e"),
                _c("event_date", "e"),
                _c("code", "e"),
                _c("concept_id", "c"),
            ),
            "person_id": _c("pid", "e"),
            "measurement_concept_id": _coalesce0(_c("concept_id", "c")),
            "measurement_date": _c("event_date", "e"),
            "measurement_type_concept_id": etl_concepts()["type"]["claim"],
            "visit_occurrence_id": _c("visit_occurrence_id", "v"),
            "measurement_source_value": _c("code", "e"),
            "measurement_source_concept_id": _coalesce0(_c("source_concept_id", "c")),
        },
    ).from_(rows.subquery("e"))
    query = _map_join(query, "NABM", _c("code", "e"))
    return _visit_link(query, "v", _c("event_date", "e"), [lab])


def care_site() -> exp.Select:
    rows = exp.select("eta_num").from_("etl_stays").distinct()
    return cdm_select(
        "care_site",
        {
            "care_site_id": stable_id(literal("ETA"), "eta_num"),
            "care_site_source_value": "eta_num",
            "place_of_service_source_value": literal("MCO"),
        },
    ).from_(rows.subquery("s"))


def provider() -> exp.Select:
    rows = (
        exp.select("provider", exp.alias_(exp.Min(this=_c("specialty")), "specialty"))
        .from_("etl_dcir_visits")
        .where(_c("provider").is_(exp.null()).not_())
        .group_by("provider")
    )
    query = cdm_select(
        "provider",
        {
            "provider_id": stable_id(literal("PFS"), _c("provider", "e")),
            "specialty_concept_id": _coalesce0(_c("concept_id", "c")),
            "provider_source_value": _c("provider", "e"),
            "specialty_source_value": _c("specialty", "e"),
            "specialty_source_concept_id": _coalesce0(_c("source_concept_id", "c")),
        },
    ).from_(rows.subquery("e"))
    return _first_target(_map_join(query, "SPE", _c("specialty", "e")), "e", "c")


def cost() -> exp.Select:
    """Amounts of the DCIR visits: the compulsory scheme's reimbursement (BSE_REM_MNT) as
    ``paid_by_payer``, the expense (PRS_PAI_MNT) as ``total_charge``, in euros."""
    visit_id = stable_id(literal("DCIR"), "person_id", "visit_date", "provider", "visit_concept_id")
    euros = {
        name: exp.Div(this=exp.cast(_c(column), "DOUBLE"), expression=literal(100.0))
        for name, column in (("paid_by_payer", "paid_cents"), ("total_charge", "charge_cents"))
    }
    return cdm_select(
        "cost",
        {
            "cost_id": stable_id(literal("cost"), visit_id.copy()),
            "cost_event_id": visit_id,
            "cost_domain_id": literal("Visit"),
            "cost_type_concept_id": etl_concepts()["type"]["claim"],
            "currency_concept_id": etl_concepts()["currency"],
            "total_charge": euros["total_charge"],
            "total_paid": euros["paid_by_payer"].copy(),
            "paid_by_payer": euros["paid_by_payer"],
        },
    ).from_("etl_dcir_visits")


def cdm_source(release: str, vocabulary_version: str) -> exp.Select:
    return cdm_select(
        "cdm_source",
        {
            "cdm_source_name": literal("Système National des Données de Santé (SNDS)"),
            "cdm_source_abbreviation": literal("SNDS"),
            "cdm_holder": literal("sndskit user"),
            "source_description": literal(
                "SNDS claims (DCIR, PMSI MCO, beneficiaries, causes of death) converted by sndskit"
            ),
            "cdm_etl_reference": literal("sndskit omop etl (docs/omop_etl.md)"),
            "source_release_date": _c("last_date", "s"),
            "cdm_release_date": exp.cast(literal(release), "DATE"),
            "cdm_version": literal("5.4"),
            "cdm_version_concept_id": etl_concepts()["cdm_version"],
            "vocabulary_version": literal(vocabulary_version),
        },
    ).from_(exp.to_table("etl_span").as_("s"))
