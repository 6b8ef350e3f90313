"""Write the sample site's page-requisite files (issue 15): pictures, logo, icon, font.

Run once by hand (``pip install pillow fonttools brotli`` first; none of them is a dependency of
newsarchive, and the tests only read the files this writes). Every picture is a flat colour
field with a few bands, drawn here; the font has two hand-drawn glyphs. Nothing is copied.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from PIL import Image, ImageDraw

SITE = Path(__file__).resolve().parent
GDB = SITE / "gdb.rferl.org"
CONTENT = SITE / "www.rferl.org" / "Content" / "responsive" / "RFE"
_RENDITION = re.compile(r"https://gdb\.rferl\.org/([0-9A-Fa-f-]+)_w(\d+)_(r[01]_s)\.jpg")


def picture(name: str, width: int, ratio: str) -> None:
    height = round(width * 9 / 16) if ratio == "r1_s" else round(width * 2 / 3)
    seed = int(hashlib.sha256(f"{name}{width}".encode()).hexdigest()[:8], 16)
    base = (40 + seed % 150, 60 + seed * 7 % 140, 80 + seed * 13 % 120)
    image = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(image)
    for i in range(6):
        shade = tuple(min(255, c + 18 * i) for c in base)
        draw.rectangle((0, height * i // 6, width, height * (i + 1) // 6 - 1), fill=shade)
    draw.ellipse((width // 3, height // 4, width * 2 // 3, height * 3 // 4), fill=(230, 220, 200))
    # Low quality for the wide copies: every sample-site file stays under 15,000 bytes.
    image.save(GDB / f"{name}_w{width}_{ratio}.jpg", "JPEG", quality=60 if width < 1000 else 25, optimize=True)


def pictures() -> None:
    """Every gdb.rferl.org rendition the www.rferl.org pages name (src, srcset, og:image)."""
    wanted = set()
    for page in (SITE / "www.rferl.org").rglob("*.html"):
        wanted |= set(_RENDITION.findall(page.read_text("utf-8")))
    for name, width, ratio in sorted(wanted):
        picture(name, int(width), ratio)


def header_background() -> None:
    image = Image.new("RGB", (64, 64), (0, 40, 85))
    draw = ImageDraw.Draw(image)
    for x in range(0, 64, 8):
        draw.line((x, 0, x + 32, 64), fill=(0, 60, 120), width=3)
    image.save(CONTENT / "img" / "header-bg.png", "PNG", optimize=True)


def font() -> None:
    """A two-glyph font (a block and a bar) under the family name the stylesheet uses."""
    builder = FontBuilder(1000, isTTF=True)
    names = [".notdef", "block", "bar"]
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({0x25A0: "block", 0x2014: "bar"})
    glyphs = {}
    for name, box in ((".notdef", (100, 0, 500, 700)), ("block", (50, 0, 650, 600)),
                      ("bar", (0, 250, 1000, 350))):  # fmt: skip
        pen = TTGlyphPen(None)
        x0, y0, x1, y1 = box
        pen.moveTo((x0, y0))
        pen.lineTo((x0, y1))
        pen.lineTo((x1, y1))
        pen.lineTo((x1, y0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({n: (1000 if n == "bar" else 700, 0) for n in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Pangea Sample", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.font.flavor = "woff2"
    builder.save(str(CONTENT / "fonts" / "pangea-sample.woff2"))


if __name__ == "__main__":
    GDB.mkdir(exist_ok=True)
    (CONTENT / "img").mkdir(parents=True, exist_ok=True)
    (CONTENT / "fonts").mkdir(parents=True, exist_ok=True)
    pictures()
    header_background()
    font()
