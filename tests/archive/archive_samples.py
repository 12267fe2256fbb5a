"""Factories for archive files: real PDFs, images, Word documents and e-mails, made per test."""

from __future__ import annotations

import datetime
import io
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from corpus import UN_ZH

FONTS = Path("/usr/share/fonts")
SANS = FONTS / "truetype/dejavu/DejaVuSans.ttf"
SERIF = FONTS / "truetype/dejavu/DejaVuSerif.ttf"
CJK = FONTS / "opentype/noto/NotoSansCJK-Regular.ttc"
CORPUS = UN_ZH

EN = (
    "Letter dated 11 December 2020 from the Permanent Representative of the Russian "
    "Federation to the United Nations addressed to the Secretary-General. I have the honour "
    "to transmit herewith the summary of the meeting on the implementation of Security "
    "Council resolution 2118 (2013), held on 28 September 2020."
)
FR = (
    "Lettre datée du 11 décembre 2020, adressée au Secrétaire général par le Représentant "
    "permanent de la Fédération de Russie auprès de l'Organisation des Nations Unies. J'ai "
    "l'honneur de vous faire tenir ci-joint le résumé de la réunion sur la résolution "
    "1540 (2004) du Conseil de sécurité."
)
ES = (
    "Carta de fecha 11 de diciembre de 2020 dirigida al Secretario General por el "
    "Representante Permanente de la Federación de Rusia ante las Naciones Unidas. Tengo el "
    "honor de transmitirle adjunto el resumen de la reunión sobre la resolución 1540 (2004)."
)
RU = (
    "Письмо Постоянного представителя Российской Федерации при Организации Объединенных "
    "Наций от 11 декабря 2020 года на имя Генерального секретаря. Имею честь препроводить "
    "настоящим резюме заседания по резолюции 2118 (2013) Совета Безопасности."
)
ZH = (
    "2020年12月11日俄罗斯联邦常驻联合国代表给秘书长的信。谨随函转递2020年9月28日俄罗斯联邦"
    "和中华人民共和国主办的关于安全理事会第2118(2013)号决议执行情况的会议主席摘要。"
)
AR = (
    "رسالة مؤرخة 11 كانون الأول/ديسمبر 2020 موجهة إلى الأمين العام من الممثل الدائم للاتحاد "
    "الروسي لدى الأمم المتحدة. يشرفني أن أحيل طيه موجز الاجتماع بشأن القرار 2118 (2013)."
)


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def pdf(
    pages: list[str],
    *,
    title: str | None = None,
    author: str | None = None,
    created: datetime.datetime | None = None,
    password: str | None = None,
) -> bytes:
    """A PDF with a text layer, one string per page; Chinese pages use the Noto CJK font."""
    document = FPDF()
    document.add_font("sans", "", str(SANS))
    if any(_is_chinese(text) for text in pages):  # the CJK font is slow to load: only if needed
        document.add_font("cjk", "", str(CJK))
    if title:
        document.set_title(title)
    if author:
        document.set_author(author)
    if created:
        document.set_creation_date(created)
    for text in pages:
        document.add_page()
        document.set_font("cjk" if _is_chinese(text) else "sans", size=12)
        document.multi_cell(0, 8, text)
    if password:
        document.set_encryption(owner_password="owner-" + password, user_password=password)
    return bytes(document.output())


def text_image(
    lines: list[str], *, font: Path = SERIF, size: int = 36, width: int = 1400
) -> Image.Image:
    """Black text on white, large enough for Tesseract to read without trouble."""
    face = ImageFont.truetype(str(font), size)
    image = Image.new("L", (width, 60 + len(lines) * size * 2), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * size * 2), line, font=face, fill=0)
    return image


def image_bytes(image: Image.Image, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def tiff(frames: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def scanned_pdf(image: Image.Image) -> bytes:
    """A PDF whose only page is a picture of text: no text layer at all."""
    width, height = 120, 120 * image.height / image.width  # millimetres: a small page
    document = FPDF(format=(width + 10, height + 10))
    document.add_page()
    document.image(image, x=5, y=5, w=width)
    return bytes(document.output())


def word(
    paragraphs: list[str],
    table: list[list[str]] | None = None,
    *,
    title: str = "",
    author: str = "",
    created: datetime.datetime | None = None,
) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.add_paragraph("After the table.")
    document.core_properties.title = title
    document.core_properties.author = author
    if created:
        document.core_properties.created = created
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def email(
    *,
    subject: str,
    sender: str,
    sent: datetime.datetime,
    text: str | None = None,
    html: str | None = None,
    attachments: dict[str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "registry@secretariat.example"
    message["Date"] = format_datetime(sent)
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for name, data in (attachments or {}).items():
        maintype, subtype = (
            ("application", "pdf") if name.endswith(".pdf") else ("application", "octet-stream")
        )
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)
