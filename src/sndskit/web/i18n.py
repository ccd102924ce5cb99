"""One message catalogue for every text the web app shows: French first, English second.

Messages live in ``messages.yaml`` (``key: {fr: …, en: …}``); templates call ``t("key")``.
A key missing in either language is an error at load time, never a blank on a page.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from sndskit.errors import SndskitError

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
CATALOGUE_FILE = Path(__file__).with_name("messages.yaml")


@functools.cache
def messages() -> dict[str, dict[str, str]]:
    """The catalogue, checked: every key has a non-empty text in every language."""
    data = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for key, texts in data.items():
        missing = [lang for lang in LANGUAGES if not (texts or {}).get(lang)]
        if missing:
            raise SndskitError(
                f"message {key!r} has no text in {', '.join(missing)}", file=CATALOGUE_FILE
            )
    return data


def pick_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``{name}`` placeholders filled.

    >>> translate("nav.codes", "fr"), translate("nav.codes", "en")
    ('Codes', 'Codes')
    >>> translate("codes.hits", "en", n=3)
    '3 codes'
    """
    try:
        text = messages()[key][pick_language(lang)]
    except KeyError:
        raise SndskitError(f"no message {key!r}", file=CATALOGUE_FILE) from None
    return text.format(**values) if values else text
