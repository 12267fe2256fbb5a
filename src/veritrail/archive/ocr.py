"""Text from images with Tesseract, choosing its language models by the script on the page.

Tesseract's orientation and script detection (``--psm 0``) runs first: it says
whether the page is in Latin, Cyrillic, Arabic or Han script and whether it is
turned. The page is then read with that script's models: English, French and
Spanish together for Latin; simplified and traditional Chinese one after the
other for Han, keeping the reading Tesseract is surer of (run together, the two
mix their characters within a line). When the detection fails (too little
text), the page is read with the Latin and Cyrillic models, and with the others
only if that reading is poor: at most three readings per page.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import pytesseract
from PIL import Image

from veritrail.errors import UnreadableFile

OCR_TIMEOUT_SECONDS = 120.0
INSTALL_HINT = "`make setup` installs Tesseract and its language models"
_SCRIPT_MODELS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Latin": (("eng", "fra", "spa"),),
    "Cyrillic": (("rus",),),
    "Arabic": (("ara",),),
    "Han": (("chi_sim",), ("chi_tra",)),
    "Japanese": (("chi_sim",), ("chi_tra",)),  # kanji pages are reported as Japanese
}
# When the script is unknown: the first reading, then the others if it is poor.
_FALLBACK: tuple[tuple[str, ...], ...] = (("eng", "fra", "spa", "rus"), ("chi_sim",), ("ara",))
_GOOD_CONFIDENCE = 70.0  # Tesseract's mean word confidence (0-100) worth stopping at
_ORIENTATION_CONFIDENCE = 2.0
_MAX_READINGS = 3
_CJK = r"\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")


@dataclass(frozen=True, slots=True)
class Reading:
    """What Tesseract read on one image, with the models used and its mean confidence."""

    text: str
    models: str  # "eng+fra+spa"
    script: str | None  # as Tesseract's script detection reported it
    confidence: float


def _not_installed() -> UnreadableFile:
    return UnreadableFile(
        "this file needs OCR (text recognition), but Tesseract is not installed on the "
        f"Veritrail server; {INSTALL_HINT}",
        reason="ocr_not_installed",
    )


@lru_cache(maxsize=1)
def _installed_languages() -> frozenset[str]:
    # Tesseract's OpenMP threads fight each other when several pages are read at once,
    # and make a single page slower on a busy machine: one thread per Tesseract, unless
    # the administrator chose otherwise.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        languages = pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise _not_installed() from exc
    return frozenset(str(language) for language in languages)


def available_languages() -> frozenset[str]:
    """Tesseract's installed models (``eng``, ``chi_sim``…); empty when it is not installed."""
    try:
        return _installed_languages()
    except UnreadableFile:
        return frozenset()


class _Deadline:
    def __init__(self, seconds: float, where: str) -> None:
        self.seconds = seconds
        self.where = where
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> UnreadableFile:
        return UnreadableFile(
            f"text recognition (OCR) of {self.where} took longer than {self.seconds:g} "
            "seconds and was stopped; the scan may be very dense or damaged. Upload a cleaner "
            "scan, or a version with a text layer.",
            reason="ocr_timeout",
        )


def _call(function: Any, deadline: _Deadline, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, timeout=deadline.remaining(), **kwargs)
    except pytesseract.TesseractNotFoundError as exc:
        raise _not_installed() from exc
    except RuntimeError as exc:
        if "timeout" in str(exc).lower() and not isinstance(exc, pytesseract.TesseractError):
            raise deadline.expired() from exc
        raise


def _detect(image: Image.Image, deadline: _Deadline, dpi: int) -> tuple[str | None, int]:
    """The script Tesseract sees on ``image`` and the turn that sets it upright."""
    try:
        found = _call(
            pytesseract.image_to_osd,
            deadline,
            image,
            config=f"--psm 0 --dpi {dpi}",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractError:
        return None, 0  # too little text to tell, or none
    script = found.get("script")
    rotate = int(found.get("rotate") or 0)
    if float(found.get("orientation_conf") or 0) < _ORIENTATION_CONFIDENCE:
        rotate = 0
    return (str(script) if script else None), rotate


def _text_from_data(data: dict[str, list[Any]]) -> tuple[str, float]:
    """Tesseract's word table back into lines and paragraphs, and the mean word confidence."""
    paragraphs: list[list[list[str]]] = []
    last_paragraph: tuple[int, int] | None = None
    last_line: int | None = None
    confidences: list[float] = []
    for i, word in enumerate(data["text"]):
        word = str(word).strip()
        confidence = float(data["conf"][i])
        if not word or confidence < 0:
            continue
        confidences.append(confidence)
        paragraph = (int(data["block_num"][i]), int(data["par_num"][i]))
        line = int(data["line_num"][i])
        if paragraph != last_paragraph:
            paragraphs.append([[]])
            last_paragraph, last_line = paragraph, line
        elif line != last_line:
            paragraphs[-1].append([])
            last_line = line
        paragraphs[-1][-1].append(word)
    text = "\n\n".join("\n".join(" ".join(words) for words in lines) for lines in paragraphs)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return _CJK_GAP.sub("", text), mean


def _read(
    image: Image.Image, models: tuple[str, ...], deadline: _Deadline, dpi: int
) -> tuple[str, float]:
    try:
        data = _call(
            pytesseract.image_to_data,
            deadline,
            image,
            lang="+".join(models),
            config=f"--psm 3 --dpi {dpi}",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractError as exc:
        message = " ".join(str(exc.message).split())[:200]
        raise UnreadableFile(
            f"text recognition (OCR) failed on {deadline.where}: {message}",
            reason="ocr_failed",
        ) from exc
    return _text_from_data(data)


def _usable(wanted: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    installed = _installed_languages()
    usable = [tuple(m for m in models if m in installed) for models in wanted]
    return [models for models in usable if models]


def _prepare(image: Image.Image) -> Image.Image:
    """A grayscale copy on white: transparency and palettes confuse Tesseract."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        return flat.convert("L")
    if image.mode.startswith(("I", "F")):
        # Deep images (16-bit scans): stretch their actual range onto 8 bits.
        deep = image.convert("F")
        low, high = cast("tuple[float, float]", deep.getextrema())
        scale = 255 / (high - low) if high != low else 1.0
        return deep.point(lambda v: (v - low) * scale).convert("L")
    return image.convert("L")


def recognize(
    image: Image.Image,
    *,
    where: str = "the image",
    dpi: int = 300,
    timeout: float = OCR_TIMEOUT_SECONDS,
) -> Reading:
    """Read the text on ``image``; ``where`` names it in errors ("page 3 of the PDF")."""
    deadline = _Deadline(timeout, where)
    _installed_languages()  # fail early, and plainly, when Tesseract is missing
    page = _prepare(image)
    script, rotate = _detect(page, deadline, dpi)
    if rotate:
        page = page.rotate(-rotate, expand=True, fillcolor=255)
    planned = _usable(_SCRIPT_MODELS.get(script or "", ()))
    read_all = len(planned) > 1  # simplified and traditional Chinese are compared, always
    if not planned:
        planned = _usable(_FALLBACK)
        read_all = False
    if not planned:
        raise UnreadableFile(
            f"{where} needs OCR, but none of Tesseract's language models for Veritrail's "
            f"languages is installed; {INSTALL_HINT}",
            reason="ocr_not_installed",
        )
    readings: list[Reading] = []
    for models in planned[:_MAX_READINGS]:
        text, confidence = _read(page, models, deadline, dpi)
        readings.append(Reading(text, "+".join(models), script, confidence))
        if not read_all and confidence >= _GOOD_CONFIDENCE and text.strip():
            break
    return max(readings, key=lambda r: (r.confidence, len(r.text)))


__all__ = ["OCR_TIMEOUT_SECONDS", "Reading", "available_languages", "recognize"]
