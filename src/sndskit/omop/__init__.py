"""OMOP-CDM terminology alignment: vocabulary store, SNDS source concepts, mapping store with
review state and history, import/export (Usagi, source_to_concept_map, CONCEPT_RELATIONSHIP,
SSSOM), suggestions, and alignment-quality analysis and report.

>>> from sndskit.omop import load_vocabulary, read_mappings, assess_quality  # doctest: +SKIP
>>> load_vocabulary("athena/")                                              # doctest: +SKIP
>>> mappings = read_mappings("cim10.usagi.csv")                              # doctest: +SKIP
>>> report = assess_quality(mappings, vocab=connect_vocabulary())           # doctest: +SKIP
"""

from sndskit.omop.io_formats import FORMATS, detect_format, read_mappings, write_mappings
from sndskit.omop.mappings import (
    Equivalence,
    Mapping,
    MappingStatus,
    MappingStore,
    MappingType,
    enrich_targets,
)
from sndskit.omop.metrics import cohen_kappa, drift, stratified_precision, wilson_interval
from sndskit.omop.quality import assess_quality, read_usage
from sndskit.omop.report import write_report
from sndskit.omop.review import read_review, review_statistics
from sndskit.omop.source_concepts import (
    assign_ids,
    build_source_concepts,
    export_athena,
    install_source_concepts,
)
from sndskit.omop.suggest import Suggester, Suggestion, evaluate_suggestions
from sndskit.omop.vocabulary import connect_vocabulary, describe_concepts, load_vocabulary

__all__ = [
    "FORMATS",
    "Equivalence",
    "Mapping",
    "MappingStatus",
    "MappingStore",
    "MappingType",
    "Suggester",
    "Suggestion",
    "assess_quality",
    "assign_ids",
    "build_source_concepts",
    "cohen_kappa",
    "connect_vocabulary",
    "describe_concepts",
    "detect_format",
    "drift",
    "enrich_targets",
    "evaluate_suggestions",
    "export_athena",
    "install_source_concepts",
    "load_vocabulary",
    "read_mappings",
    "read_review",
    "read_usage",
    "review_statistics",
    "stratified_precision",
    "wilson_interval",
    "write_mappings",
    "write_report",
]
