"""Message catalogues in the six UN languages.

Catalogues are gettext ``.po`` files under ``veritrail/locale/<lang>/LC_MESSAGES``,
read with Babel when first needed (no compile step). English is the source
language; a missing translation falls back to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {
    "ar": "العربية",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "ru": "Русский",
    "zh": "中文",
}
RTL = frozenset({"ar"})


@dataclass(frozen=True)
class Translator:
    language: str
    catalogue: dict[str, str]

    def gettext(self, message: str) -> str:
        return self.catalogue.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    @property
    def rtl(self) -> bool:
        return self.language in RTL


@lru_cache(maxsize=len(LANGUAGES))
def translator(language: str) -> Translator:
    """The translator for ``language`` (one of the six UN languages, else English)."""
    if language not in LANGUAGES:
        language = "en"
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    catalogue: dict[str, str] = {}
    if path.exists():
        with path.open("rb") as fh:
            for message in read_po(fh, locale=language):
                if message.id and isinstance(message.id, str) and message.string:
                    if not message.fuzzy and isinstance(message.string, str):
                        catalogue[message.id] = message.string
    return Translator(language=language, catalogue=catalogue)


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """Pick one of the six UN languages from an ``Accept-Language`` header."""
    if not accept_language:
        return default
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return default


__all__ = ["LANGUAGES", "LOCALE_DIR", "RTL", "Translator", "negotiate", "translator"]
