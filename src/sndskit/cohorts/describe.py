"""A cohort spec as a readable Markdown method section (in French, for protocols and EDB)."""

from __future__ import annotations

from sndskit.cohorts.spec import CohortSpec, Criterion, Event
from sndskit.snds.filters import get_filters, get_preset
from sndskit.snds.sources import SOURCES


def _event(event: Event) -> str:
    source = SOURCES[event.source]
    text = source.label_fr
    if event.codelist:
        text += f", liste de codes `{event.codelist}`"
    for name, option in source.options.items():
        text += f" ({option.doc_fr} : {', '.join(event.option(name))})"
    return text


def _criterion(criterion: Criterion) -> str:
    if criterion.age:
        bounds = []
        if criterion.age.min is not None:
            bounds.append(f"≥ {criterion.age.min} ans")
        if criterion.age.max is not None:
            bounds.append(f"≤ {criterion.age.max} ans")
        return f"**{criterion.name}** : âge à la date index {' et '.join(bounds)}"
    if criterion.sex:
        return f"**{criterion.name}** : sexe {'masculin' if criterion.sex == 'male' else 'féminin'}"
    count = criterion.occurrences
    how = (
        f"exactement {count.exactly}"
        if count.exactly is not None
        else " et ".join(
            x
            for x in (
                f"au moins {count.at_least}" if count.at_least is not None else "",
                f"au plus {count.at_most}" if count.at_most is not None else "",
            )
            if x
        )
    )
    events = " ; ou ".join(_event(e) for e in criterion.events or [])
    window = criterion.window
    return (
        f"**{criterion.name}** : {how} événement(s) parmi {events}, "
        f"entre J{window.start:+d} et J{window.end:+d} de la date index"
    )


def describe_cohort(spec: CohortSpec) -> str:
    entry, occ = spec.entry, spec.entry.occurrences
    rule = f"au moins {occ.at_least} événement(s)" + (
        " à des dates distinctes" if occ.distinct_dates else ""
    )
    if occ.within_days:
        rule += f" dans une fenêtre de {occ.within_days} jours"
    lines = [
        f"## Population « {spec.name} »",
        "",
        spec.description,
        "",
        f"**Période d'étude** : du {spec.period.start:%d/%m/%Y} au {spec.period.end:%d/%m/%Y}.",
        "",
        "**Entrée** : "
        + " ; ou ".join(_event(e) for e in entry.events)
        + f". Règle : {rule}. "
        + {
            "first": "La date index est la date du premier événement qualifiant.",
            "last": "La date index est la date du dernier événement qualifiant.",
            "all": "Chaque événement qualifiant ouvre une entrée.",
        }[entry.index],
        "",
    ]
    if spec.washout_days:
        lines += [
            f"**Période de lavage** : aucun événement d'entrée dans les {spec.washout_days} jours "
            "précédant la date index.",
            "",
        ]
    for title, criteria in (
        ("Critères d'inclusion", spec.inclusion),
        ("Critères d'exclusion", spec.exclusion),
    ):
        if criteria:
            lines += [f"**{title}** :", ""] + [f"- {_criterion(c)}" for c in criteria] + [""]
    exit_text = {
        "end_of_study": "fin de la période d'étude",
        "death": "décès ou fin de la période d'étude",
        "fixed_duration": f"{spec.exit.days} jours après la date index",
        "end_of_exposure": f"fin de l'exposition ({spec.exit.exposure_days} jours par délivrance, "
        f"interruption de plus de {spec.exit.gap_days} jours)",
    }[spec.exit.at]
    lines += [f"**Sortie** : {exit_text} ; le décès met toujours fin au suivi.", ""]
    snds = spec.snds
    filters = get_filters()
    chosen = get_preset(snds.quality_filters)
    lines += [
        f"**Traitements propres au SNDS** : filtres qualité « {snds.quality_filters} »"
        f" ({len(chosen)} filtres), décalage des flux DCIR de {snds.flux_lag_months} mois, "
        f"doublons de FINESS géographiques : {snds.finess_duplicates}; personnes identifiées par "
        "BEN_IDT_ANO (IR_BEN_R)"
        + (", NIR fictifs exclus." if snds.exclude_fictitious_nir else "."),
        "",
    ]
    lines += [f"- `{name}` : {filters[name].description}" for name in chosen]
    return "\n".join(lines) + "\n"
