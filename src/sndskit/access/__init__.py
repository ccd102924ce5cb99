"""Access requests: the study spec, the EDB built from it, the dossier, the automatic review
and the project registry (``docs/access.md``).

>>> from sndskit.access import label
>>> label("edb_title", "fr"), label("edb_title", "en")
('Expression des besoins', 'Expression of needs (EDB)')
"""

from sndskit.access.dossier import export_dossier, required_documents
from sndskit.access.edb import Edb, build_edb
from sndskit.access.registry import Registry
from sndskit.access.registry_io import export_registry, read_directory_export, record_from_study
from sndskit.access.registry_model import ProjectRecord
from sndskit.access.render import export_edb, render_edb_markdown
from sndskit.access.review import Review, render_review_markdown, review_edb
from sndskit.access.rules import label
from sndskit.access.spec import Study, StudySpec, load_study

__all__ = [
    "Edb",
    "ProjectRecord",
    "Registry",
    "Review",
    "Study",
    "StudySpec",
    "build_edb",
    "export_dossier",
    "export_edb",
    "export_registry",
    "label",
    "load_study",
    "read_directory_export",
    "record_from_study",
    "render_edb_markdown",
    "render_review_markdown",
    "required_documents",
    "review_edb",
]
