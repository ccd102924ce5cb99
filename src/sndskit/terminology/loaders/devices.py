"""LPP (medical devices and services) and its tree.

Sources (each optional):

- ``schema-snds/nomenclatures/ORAREF/NT_LPP.csv`` — every LPP code of the SNDS (7 digits,
  kept as strings), its label ``LPP_RED_LIB``, end of validity ``LPP_VAL_DTF`` and its
  place in the tree ``LPP_ARB_CHA``, ``LPP_ARB_SC1`` … ``LPP_ARB_SC9``.
- ``nomensland/lpp_fiche.json.gz`` — a subset of the codes (2025) with their short name
  ``nom_court``, end date ``date_fin`` and tree position ``arbo1`` … ``arbo10`` with the
  titles of the tree nodes ``lib_arbo1`` … ``lib_arbo9``.

Tree: the positions of ``NT_LPP`` place every code (the nomensland positions are used only
when ``NT_LPP`` is absent, or for a code it lacks). A node is coded by its numbers joined
by dots, from the title down: ``1`` (Titre I), ``1.1`` (chapter), ``1.1.7`` … down to 10
levels; ``0`` ends a path. Dotted codes never collide with 7-digit product codes. A
product is one level below its deepest node; the few codes without a position have no
parent and no level.

Node titles come from nomensland, whose tree is a later revision (some sections were
renumbered): a node takes the title that nomensland gives, at the same depth, to most of
the products ``NT_LPP`` files under it (a strict majority); a node none of whose products
is in nomensland takes the title nomensland gives to the same numbers; any other node is
labelled ``LPP <code>``.

Labels: ``LPP_RED_LIB``, or nomensland's ``nom_court`` when the former holds a broken
character (``�``); a ``nom_court`` worded differently is a ``short_label`` synonym.
``valid_to`` is ``LPP_VAL_DTF``, else nomensland's ``date_fin``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from sndskit.errors import SndskitError
from sndskit.terminology.loaders.biology import tree_path
from sndskit.terminology.loaders.ccam import (
    clean_text,
    read_checked_csv,
    read_checked_json,
    same_text,
    tree_levels,
)
from sndskit.terminology.loaders.common import NOMENCLATURES, parse_date
from sndskit.terminology.model import ConceptRow, SynonymRow, TerminologyBatch

VOCAB = "LPP"
LPP_REL = str(NOMENCLATURES / "ORAREF" / "NT_LPP.csv")
FICHE_REL = "nomensland/lpp_fiche.json.gz"
NT_TREE = ("LPP_ARB_CHA", *(f"LPP_ARB_SC{i}" for i in range(1, 10)))
FICHE_TREE = tuple(f"arbo{i}" for i in range(1, 11))
BROKEN = "\ufffd"


def _code(raw: object, *, path: Path, line: int, field: str) -> str:
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 7:
        raise SndskitError(
            f"LPP code {text!r} is not a number of at most 7 digits",
            file=path,
            line=line,
            field=field,
        )
    return text.zfill(7)


def _dotted(numbers: list[int]) -> list[str]:
    """Codes of the nodes along a path: ``[1, 1, 7]`` → ``['1', '1.1', '1.1.7']``."""
    return [".".join(str(n) for n in numbers[: depth + 1]) for depth in range(len(numbers))]


class _Fiche:
    """What nomensland says about one product."""

    __slots__ = ("end", "nodes", "short", "titles")

    def __init__(self, short: str, end: date | None, nodes: list[str], titles: list[str]):
        self.short, self.end, self.nodes, self.titles = short, end, nodes, titles


def _read_fiche(path: Path) -> dict[str, _Fiche]:
    fiches: dict[str, _Fiche] = {}
    for number, row in read_checked_json(path, ("code_tips",)):
        code = _code(row["code_tips"], path=path, line=number, field="code_tips")
        numbers = tree_path(
            {key: str(row.get(key) or "") for key in FICHE_TREE},
            FICHE_TREE,
            path=path,
            line=number,
        )
        titles = [clean_text(row.get(f"lib_arbo{depth}")) for depth in range(1, 11)]
        end = parse_date(row.get("date_fin"), path=path, line=number, field="date_fin")
        fiches[code] = _Fiche(clean_text(row.get("nom_court")), end, _dotted(numbers), titles)
    return fiches


def _node_titles(node_products: dict[str, list[str]], fiches: dict[str, _Fiche]) -> dict[str, str]:
    """Title of each node (see the module docstring for the rule)."""
    by_numbers: dict[str, str] = {}
    for fiche in fiches.values():
        for depth, node in enumerate(fiche.nodes):
            if fiche.titles[depth]:
                by_numbers.setdefault(node, fiche.titles[depth])
    titles: dict[str, str] = {}
    for node, products in node_products.items():
        depth = node.count(".")
        votes = Counter(
            fiches[code].titles[depth] if depth < len(fiches[code].titles) else ""
            for code in products
            if code in fiches
        )
        if votes:
            title, count = votes.most_common(1)[0]
            if title and count * 2 > sum(votes.values()):
                titles[node] = title
        elif node in by_numbers:
            titles[node] = by_numbers[node]
    return titles


def load_devices(root: Path) -> TerminologyBatch:
    """LPP products (7-digit codes) and their tree nodes (``1``, ``1.1``, ``1.1.7`` …)."""
    lpp_path = root / LPP_REL
    fiche_path = root / FICHE_REL
    fiches = _read_fiche(fiche_path) if fiche_path.exists() else {}

    labels: dict[str, str] = {}
    ends: dict[str, date | None] = {}
    nodes_of: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    parts: list[str] = []
    if lpp_path.exists():
        for line, row in read_checked_csv(lpp_path, ("LPP_PRS_IDE", "LPP_RED_LIB", *NT_TREE)):
            code = _code(row["LPP_PRS_IDE"], path=lpp_path, line=line, field="LPP_PRS_IDE")
            if code in labels:
                raise SndskitError(
                    f"LPP code {code} appears twice", file=lpp_path, line=line, field="LPP_PRS_IDE"
                )
            labels[code] = clean_text(row["LPP_RED_LIB"])
            sources[code] = LPP_REL
            ends[code] = parse_date(
                row.get("LPP_VAL_DTF"), path=lpp_path, line=line, field="LPP_VAL_DTF"
            )
            nodes_of[code] = _dotted(tree_path(row, NT_TREE, path=lpp_path, line=line))
        parts.append("NT_LPP (schema-snds)")
    if fiches:
        parts.append("nomensland lpp_fiche (short names, node titles)")
    if not labels and not fiches:
        return TerminologyBatch([], [], [], {})

    nt_nodes = {node for nodes in nodes_of.values() for node in nodes}
    synonyms: list[SynonymRow] = []
    for code, fiche in fiches.items():
        if code not in labels:  # a product NT_LPP lacks (or no NT_LPP at all)
            labels[code], sources[code] = fiche.short, FICHE_REL
            if not nt_nodes:
                nodes_of[code] = fiche.nodes
            else:  # keep NT_LPP's numbering: only nodes it knows
                nodes_of[code] = [node for node in fiche.nodes if node in nt_nodes]
        elif BROKEN in labels[code] and fiche.short:
            labels[code] = fiche.short
        elif fiche.short and not same_text(fiche.short, labels[code]):
            synonyms.append(SynonymRow(VOCAB, code, fiche.short, "short_label", FICHE_REL))
        if ends.get(code) is None:
            ends[code] = fiche.end

    node_products: dict[str, list[str]] = defaultdict(list)
    parents: dict[str, str | None] = {}
    for code, nodes in nodes_of.items():
        for depth, node in enumerate(nodes):
            parents.setdefault(node, nodes[depth - 1] if depth else None)
            node_products[node].append(code)
        if nodes:
            parents[code] = nodes[-1]
    levels = tree_levels(parents)
    titles = _node_titles(node_products, fiches)

    concepts = [
        ConceptRow(
            VOCAB,
            node,
            titles.get(node, f"LPP {node}"),
            parents[node],
            levels[node],
            source=LPP_REL if node in nt_nodes else FICHE_REL,
        )
        for node in sorted(node_products)
    ]
    concepts += [
        ConceptRow(
            VOCAB,
            code,
            label,
            parents.get(code),
            levels.get(code),
            None,
            ends.get(code),
            sources[code],
        )
        for code, label in labels.items()
    ]
    return TerminologyBatch(concepts, synonyms, [], {VOCAB: " + ".join(parts)})
