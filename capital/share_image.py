"""The announcement's share image: a 1200×630 PNG drawn on the server with Pillow (docs/public.md).

One per language, for ``og:image``: the title, the capital's name and "16 May" with the year.
Text is laid out by libraqm when Pillow has it (shaping and right-to-left: Arabic joins and
reads from the right), in DejaVu Sans (Latin, Cyrillic, Arabic) or, for Chinese characters, Noto
Sans CJK — both Debian font packages (fonts-dejavu-core, fonts-noto-cjk; ``make pdf`` installs
them). The same text gives the same bytes: nothing else goes into the picture.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/opentype/noto"))
# (file, index in a collection): the bold faces; index 2 of the CJK collection is Simplified Chinese.
LATIN = ("DejaVuSans-Bold.ttf", 0)
LATIN_REGULAR = ("DejaVuSans.ttf", 0)
CJK = ("NotoSansCJK-Bold.ttc", 2)
CJK_REGULAR = ("NotoSansCJK-Regular.ttc", 2)
_CJK_CHARACTERS = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

BACKGROUND = (0, 61, 122)
ACCENT = (242, 183, 5)
TEXT = (255, 255, 255)


@dataclass(frozen=True)
class ShareText:
    """What the picture says, already in the reader's language."""

    title: str  # "Capital of Living Together 2031"
    city: str
    day: str  # "16 May 2031"
    is_rtl: bool


def has_shaping() -> bool:
    """Whether Pillow lays text out with libraqm (shaping, bidirectional text)."""
    return bool(features.check("raqm"))


def _font_file(name: str) -> Path:
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"font {name} is not installed (make pdf installs fonts-dejavu-core and fonts-noto-cjk)")


@cache
def _font(face: tuple[str, int], size: int) -> ImageFont.FreeTypeFont:
    layout = ImageFont.Layout.RAQM if has_shaping() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(_font_file(face[0])), size, index=face[1], layout_engine=layout)


def _face(text: str, bold: bool = True) -> tuple[str, int]:
    if _CJK_CHARACTERS.search(text):
        return CJK if bold else CJK_REGULAR
    return LATIN if bold else LATIN_REGULAR


def _fitted(text: str, largest: int, smallest: int, width: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    """The largest size (down to ``smallest``) at which ``text`` fits in ``width`` pixels."""
    size = largest
    while size > smallest:
        font = _font(_face(text, bold), size)
        if font.getlength(text) <= width:
            return font
        size -= 4
    return _font(_face(text, bold), smallest)


def _line(draw: ImageDraw.ImageDraw, text: str, top: int, font: ImageFont.FreeTypeFont, fill, is_rtl: bool) -> int:
    """Draw one line from ``top``, aligned to the start side of the language; returns the next top."""
    left, upper, right, lower = draw.textbbox((0, 0), text, font=font)
    x = WIDTH - MARGIN - right if is_rtl else MARGIN - left
    draw.text((x, top - upper), text, font=font, fill=fill)
    return top + (lower - upper)


@lru_cache(maxsize=64)
def share_png(text: ShareText) -> bytes:
    """The share image of an announcement, as PNG bytes (drawn once per worker for each text)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    start = WIDTH - MARGIN - 160 if text.is_rtl else MARGIN
    draw.rectangle((start, 96, start + 160, 108), fill=ACCENT)
    usable = WIDTH - 2 * MARGIN
    top = _line(draw, text.title, 150, _fitted(text.title, 52, 28, usable, bold=False), TEXT, text.is_rtl)
    top = _line(draw, text.city, top + 60, _fitted(text.city, 132, 48, usable), TEXT, text.is_rtl)
    _line(draw, text.day, top + 60, _fitted(text.day, 64, 32, usable), ACCENT, text.is_rtl)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
