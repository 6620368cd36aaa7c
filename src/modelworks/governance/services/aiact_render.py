"""Rendering a technical documentation pack (``TechnicalDocument.content``) as HTML and as PDF.

* HTML: one self-contained page (inline styles, no script, no external asset), every value escaped by
  Django's templates. It depends on the content only, so the same content always gives the same bytes:
  its SHA-256 identifies a generated document.
* PDF: written with fpdf2. Text is Unicode when a DejaVu Sans font is found (``MODELWORKS_PDF_FONT``
  setting, the system's fonts, or the copy shipped with matplotlib); otherwise the core Helvetica font
  is used with the text transliterated to Latin-1 and the first page says so.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

__all__ = ["find_unicode_font", "pdf_file_name", "render_html", "render_pdf", "to_latin1"]

_SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),  # Arch
)
_REPLACEMENTS = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2265": ">=",
    "\u2264": "<=",
    "\u00b7": "-",
    "\u2022": "-",
    "\u20ac": "EUR",
}
NO_FONT_NOTE = (
    "Note: no Unicode font was found on this server, so characters outside Latin-1 were replaced. "
    "Install the DejaVu fonts (Debian/Ubuntu: fonts-dejavu-core) or set MODELWORKS_PDF_FONT to a .ttf file."
)
MAX_CELL = 600


def render_html(content: dict[str, Any]) -> str:
    """The self-contained HTML document of ``content``."""
    return render_to_string("governance/aiact/export.html", {"content": content})


def pdf_file_name(content: dict[str, Any], extension: str) -> str:
    """A safe download name, e.g. ``ai-act-delay-prediction-2026-11-27.pdf``."""
    slug = "".join(c for c in str(content.get("use_case", {}).get("slug", "")) if c.isalnum() or c in "-_")
    day = str(content.get("generated_at", ""))[:10].replace(" ", "")
    return f"ai-act-{slug or 'document'}-{day or 'undated'}.{extension}"


def find_unicode_font() -> tuple[Path, Path | None] | None:
    """(regular, bold or None) TTF files of DejaVu Sans, or None when none is on this machine."""
    configured = getattr(settings, "MODELWORKS_PDF_FONT", None)
    if configured and Path(configured).is_file():
        bold = getattr(settings, "MODELWORKS_PDF_FONT_BOLD", None)
        return Path(configured), Path(bold) if bold and Path(bold).is_file() else None
    folders = list(_SYSTEM_FONTS)
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        folders.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    for folder in folders:
        regular = folder / "DejaVuSans.ttf"
        if regular.is_file():
            bold = folder / "DejaVuSans-Bold.ttf"
            return regular, bold if bold.is_file() else None
    return None


def to_latin1(text: str) -> str:
    """``text`` with typographic characters replaced and anything else outside Latin-1 as '?'."""
    for char, replacement in _REPLACEMENTS.items():
        text = text.replace(char, replacement)
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.encode("latin-1", "replace").decode("latin-1")


class _Writer:
    """Writes the blocks of a document with one font family (Unicode TTF or core Helvetica)."""

    def __init__(self, content: dict[str, Any], *, font: str) -> None:
        from fpdf import FPDF

        title = str(content.get("title", "Technical documentation"))

        class _Pdf(FPDF):  # type: ignore[misc]
            def footer(inner) -> None:
                inner.set_y(-12)
                inner.set_font(self.family, "", 8)
                inner.cell(0, 6, self.text(f"{title} - page {inner.page_no()}/{{nb}}"), align="C")

        self.pdf = _Pdf(orientation="P", unit="mm", format="A4")
        self.unicode = False
        self.family = "helvetica"
        found = find_unicode_font() if font == "auto" else None
        if found is not None:
            regular, bold = found
            self.pdf.add_font("DejaVu", "", str(regular))
            self.pdf.add_font("DejaVu", "B", str(bold or regular))
            self.family, self.unicode = "DejaVu", True
        self.pdf.set_title(self.text(title))
        self.pdf.set_author("Modelworks")
        self.pdf.set_creator("Modelworks")
        self.pdf.set_auto_page_break(True, margin=16)
        self.pdf.set_margins(15, 15, 15)
        self.pdf.add_page()

    def text(self, value: Any) -> str:
        text = str(value)
        return text if self.unicode else to_latin1(text)

    def paragraph(
        self, text: str, *, size: float = 10, style: str = "", fill: tuple[int, int, int] | None = None
    ) -> None:
        from fpdf.enums import XPos, YPos

        self.pdf.set_font(self.family, style, size)
        if fill is not None:
            self.pdf.set_fill_color(*fill)
        self.pdf.multi_cell(
            0,
            size * 0.5,
            self.text(text),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            fill=fill is not None,
            align="L",
        )
        self.pdf.set_fill_color(255, 255, 255)
        self.pdf.ln(1.5)

    def table(
        self, columns: list[str], rows: list[list[str]], *, caption: str = "", headings: bool = True
    ) -> None:
        from fpdf.fonts import FontFace

        if caption:
            self.paragraph(caption, size=9.5, style="B")
        size = 8.5 if len(columns) <= 4 else 7.5
        self.pdf.set_font(self.family, "", size)
        widths = (1.0, 2.6) if not headings and len(columns) == 2 else _widths(columns, rows)
        data = ([columns] if headings else []) + (rows or [["None."] + [""] * (len(columns) - 1)])
        with self.pdf.table(
            col_widths=widths,
            text_align="LEFT",
            first_row_as_headings=headings,
            headings_style=FontFace(emphasis="BOLD", fill_color=(240, 240, 240)),
            line_height=size * 0.5,
            padding=1,
            cell_fill_mode="NONE",
        ) as table:
            for values in data:
                row = table.row()
                for value in values:
                    text = str(value)
                    row.cell(self.text(text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"))
        self.pdf.ln(3)

    def document(self, content: dict[str, Any]) -> bytes:
        self.paragraph(str(content.get("title", "")), size=16, style="B")
        model = content.get("model")
        meta = f"Generated {content.get('generated_at', '')} by {content.get('generated_by', '')}"
        meta += (
            f" - Model {model['name']} version {model['version']} (project {model['project_name']})"
            if model
            else " - No model version"
        )
        if content.get("risk_class"):
            meta += f" - Risk class: {content['risk_class']}"
        self.paragraph(meta, size=9)
        self.paragraph(str(content.get("disclaimer", "")), size=9, fill=(246, 248, 250))
        if not self.unicode:
            self.paragraph(NO_FONT_NOTE, size=8.5, fill=(255, 248, 197))
        gaps = content.get("gaps") or []
        if gaps:
            self.paragraph(f"What is missing ({len(gaps)})", size=12, style="B")
            for gap in gaps:
                self.paragraph(f"- {gap}", size=9, fill=(255, 248, 197))
        for section in content.get("sections", []):
            self.pdf.ln(2)
            self.paragraph(f"{section['title']}  ({section['basis']})", size=12.5, style="B")
            for block in section.get("blocks", []):
                kind = block.get("type")
                if kind == "paragraph":
                    self.paragraph(block["text"])
                elif kind == "missing":
                    self.paragraph(f"Missing: {block['text']}", size=9.5, fill=(255, 248, 197))
                elif kind == "list":
                    for item in block["items"]:
                        self.paragraph(f"- {item}", size=9.5)
                elif kind == "facts":
                    self.table(["", ""], [list(r) for r in block["rows"]], headings=False)
                elif kind == "table":
                    self.table(block["columns"], block["rows"], caption=block.get("caption", ""))
        return bytes(self.pdf.output())


def _widths(columns: list[str], rows: list[list[str]]) -> tuple[float, ...]:
    """Relative column widths from the length of their content (bounded, so no column vanishes)."""
    sample = [columns, *rows[:30]]
    lengths = [max(min(len(str(r[i])) if i < len(r) else 0, 60) for r in sample) for i in range(len(columns))]
    return tuple(max(6.0, float(n)) for n in lengths)


def render_pdf(content: dict[str, Any], *, font: str = "auto") -> bytes:
    """The PDF of ``content``.

    Args:
        content: a ``TechnicalDocument.content``.
        font: ``"auto"`` (a Unicode TTF when one is found, else core Helvetica with transliterated
            text) or ``"core"`` (always Helvetica).
    """
    return _Writer(content, font=font).document(content)
