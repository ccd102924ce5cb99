"""sndskit — toolkit for the French national health data system (SNDS) and OMOP-CDM."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sndskit")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
