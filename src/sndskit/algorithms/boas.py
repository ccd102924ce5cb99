"""`sndskit algo export --format boas`: the fields of a BOAS fiche and the sections of a
BOAS submission (Health Data Hub), filled from the algorithm folder, in French."""

from __future__ import annotations

from typing import Any

from sndskit.algorithms.docs import _metric_text, citation, tables_read
from sndskit.algorithms.folder import Algorithm
from sndskit.algorithms.model import LEVELS

SECTIONS_FR = {
    "resume": "Résumé",
    "contexte": "Contexte",
    "methode": "Méthode",
    "validation": "Validation",
    "documentation_et_licence": "Documentation et licence",
    "perimetre_des_donnees": "Périmètre des données",
}
CATEGORY_FR = {
    "targeting": "Algorithme de ciblage",
    "cartography": "Cartographie / repérage de pathologies",
    "treatment": "Traitement des données",
    "comorbidity_score": "Score de comorbidité",
    "other": "Autre",
}


def _validation_status(algorithm: Algorithm) -> str:
    evidence = algorithm.validations()
    real = [v for v in evidence if not v.synthetic]
    if algorithm.meta.status == "validated":
        return "Validé"
    if real:
        return "Non validé (validations publiées de définitions apparentées)"
    if evidence:
        return "Non validé (évaluation sur données synthétiques uniquement)"
    return "Non validé"


def export_boas(algorithm: Algorithm) -> dict[str, Any]:
    """The BOAS fiche fields and submission sections of ``algorithm`` (French)."""
    m = algorithm.meta
    tables = tables_read(algorithm)
    fiche = {
        "nom": m.title.fr,
        "identifiant": f"{m.id} {m.version}",
        "categorie_objectif": CATEGORY_FR[m.objective.category],
        "objectif": m.objective.text.fr,
        "auteurs": [p.name + (f" (ORCID {p.orcid})" if p.orcid else "") for p in m.authors],
        "domaine_medical": m.domains,
        "methodologie": m.logic_intro.fr,
        "langage": "YAML (spécification sndskit) compilé en SQL (DuckDB, Spark, Oracle)",
        "donnees_utilisees": sorted(tables),
        "statut_validation": _validation_status(algorithm),
        "depot": m.repository
        or f"à renseigner ; dans sndskit : src/sndskit/resources/algorithms/{m.id}",
        "licence": m.licence,
    }
    validation_lines = [
        f"- Niveau {v.level} ({LEVELS[v.level].split(' / ')[1]}"
        + (", définition apparentée" if v.applies_to == "related_definition" else "")
        + f") : {v.method.fr} {_metric_text(v)}"
        + (f" — {v.citation.citation}" if v.citation else "")
        + (f" — {v.note.fr}" if v.note else "")
        for v in algorithm.validations()
    ]
    sections = {
        "resume": f"{m.title.fr}. {m.objective.text.fr}",
        "contexte": m.derived_from.fr if m.derived_from else m.objective.text.fr,
        "methode": "\n".join(
            [m.logic_intro.fr]
            + [f"- {r.role.fr} (`{r.spec}`)" for r in m.cohorts]
            + [f"- Règle non confirmée : {u.fr}" for u in m.unconfirmed_rules]
        ),
        "validation": "\n".join(validation_lines) or "Aucune validation.",
        "documentation_et_licence": f"Fiche générée (README.md) ; licence {m.licence} ; "
        f"citer : {citation(algorithm)}",
        "perimetre_des_donnees": f"{m.population.fr} {m.period.description.fr} Tables : "
        + ", ".join(sorted(tables)),
    }
    return {"fiche": fiche, "soumission": sections}


def render_boas(export: dict[str, Any]) -> str:
    """The export as Markdown (fiche fields, then submission sections)."""
    lines = [f"## Fiche BOAS — {export['fiche']['nom']}", ""]
    for key, value in export["fiche"].items():
        shown = ", ".join(value) if isinstance(value, list) else value
        lines.append(f"- **{key}** : {shown}")
    lines.append("")
    for key, value in export["soumission"].items():
        lines += [f"### {SECTIONS_FR[key]}", "", value, ""]
    return "\n".join(lines)
