"""Code lists: specs resolved into frozen, explained lists; exports; checks on data."""

from sndskit.codelists.model import Codelist, load_codelist, save_codelist
from sndskit.codelists.resolve import build_codelist
from sndskit.codelists.spec import CodelistSpec

__all__ = ["Codelist", "CodelistSpec", "build_codelist", "load_codelist", "save_codelist"]
