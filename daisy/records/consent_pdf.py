"""A signed consent as a PDF, for the record and the client's download (issue 14 item 4): the
exact text signed, the signature (drawn, or the typed name), who signed, when and where, the
consent-taker, the withdrawal if any, and the SHA-256 of the text.

Fonts: Debian's DejaVu Sans (package fonts-dejavu-core, which .ci/run installs) is embedded when
it is on the machine, so every name renders (Zoë, Łukasz, Nguyễn, Ωμέγα, Кирилл). Nothing is
downloaded and no font is shipped in the repository. Without it the PDF falls back to the PDF
core font Helvetica (Latin-1 only): each character it cannot draw is written as its Unicode
code point (U+0141) and the page says so, so nothing is silently lost."""

from __future__ import annotations

import io
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from fpdf import FPDF

# Where Debian (fonts-dejavu-core) and other systems keep DejaVu Sans. DAISY_PDF_FONT_DIR, when
# set, is looked in first (a directory holding DejaVuSans.ttf and DejaVuSans-Bold.ttf).
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
# fontTools reports every table it prunes while subsetting the font, at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def unicode_font_dir() -> Path | None:
    """The directory with DejaVu Sans (regular and bold), or None."""
    dirs = [os.environ.get("DAISY_PDF_FONT_DIR", ""), *FONT_DIRS]
    for name in dirs:
        if name and (Path(name) / REGULAR).is_file() and (Path(name) / BOLD).is_file():
            return Path(name)
    return None


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family_name, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, self.footer_text, align="L")
        self.cell(0, 6, f"{self.page_no()}/{{nb}}", align="R")


class _Writer:
    def __init__(self, footer: str, font_dir: Path | None) -> None:
        self.unicode = font_dir is not None
        self.missing = False
        pdf = _Pdf(footer)
        if font_dir is not None:
            pdf.add_font("DejaVu", "", str(font_dir / REGULAR))
            pdf.add_font("DejaVu", "B", str(font_dir / BOLD))
            pdf.family_name = "DejaVu"  # type: ignore[attr-defined]
        else:
            pdf.family_name = "Helvetica"  # type: ignore[attr-defined]
        pdf.alias_nb_pages()
        pdf.set_auto_page_break(True, margin=18)
        pdf.set_margins(18, 16, 18)
        pdf.add_page()
        self.pdf = pdf

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        out = []
        for char in value:
            try:
                char.encode("latin-1")
                out.append(char)
            except UnicodeEncodeError:
                self.missing = True
                out.append(f"[U+{ord(char):04X}]")
        return "".join(out)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.pdf.family_name, "B" if bold else "", size)  # type: ignore[attr-defined]

    def para(self, value: str, size: float = 10.5, bold: bool = False, gap: float = 2) -> None:
        self.font(size, bold)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(gap)

    def item(self, value: str) -> None:
        self.font(10.5)
        pdf = self.pdf
        pdf.set_x(pdf.l_margin + 2)
        pdf.cell(5, 5.25, "-" if not self.unicode else "•")
        pdf.multi_cell(0, 5.25, self.text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.8)

    def pair(self, label: str, value: str, size: float = 9.5) -> None:
        pdf = self.pdf
        self.font(9.5, bold=True)
        pdf.cell(46, 5.2, self.text(label))
        self.font(size)
        pdf.multi_cell(0, 5.2, self.text(value or "-"), new_x="LMARGIN", new_y="NEXT")


def _body(writer: _Writer, text: str) -> None:
    """The consent's own text: its first line is the title, then paragraphs; a line starting
    "- " is a list item; a short line alone is a heading."""
    title, _sep, rest = text.partition("\n\n")
    writer.para(title, size=15, bold=True, gap=3)
    for block in rest.split("\n"):
        line = block.rstrip()
        if not line:
            writer.pdf.ln(1.5)
        elif line.startswith("- "):
            writer.item(line[2:])
        elif len(line) < 60 and not line.endswith("."):
            writer.pdf.ln(1)
            writer.para(line, size=11.5, bold=True, gap=0.5)
        else:
            writer.para(line, gap=1)


def _when(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local:%-d %B %Y, %H:%M:%S} ({zone.key})"


def consent_pdf(consent: Any, *, zone: ZoneInfo, clinic_name: str = "") -> bytes:
    """The PDF of one signed consent."""
    footer = _("%(title)s, version %(version)s. SHA-256 of the text: %(hash)s") % {
        "title": consent.title,
        "version": consent.version,
        "hash": consent.text_sha256[:16] + "...",
    }
    writer = _Writer(footer, unicode_font_dir())
    pdf = writer.pdf
    pdf.set_title(consent.title)
    pdf.set_author(consent.signed_name)
    pdf.set_subject(f"SHA-256 {consent.text_sha256}")
    pdf.set_creator("Daisy")
    pdf.set_creation_date(consent.signed_at)
    if clinic_name:
        writer.para(clinic_name, size=9, gap=1)
    if consent.withdrawn_at is not None:
        pdf.set_text_color(150, 20, 20)
        writer.para(
            _("WITHDRAWN on %(when)s.") % {"when": _when(consent.withdrawn_at, zone)},
            size=12,
            bold=True,
        )
        pdf.set_text_color(0, 0, 0)
    _body(writer, consent.text)

    pdf.ln(4)
    if pdf.get_y() > pdf.h - 95:  # keep the signature with who, when and where
        pdf.add_page()
    writer.para(_("Signature"), size=12.5, bold=True, gap=1)
    if consent.method == "drawn" and bytes(consent.signature_png):
        pdf.image(io.BytesIO(bytes(consent.signature_png)), w=70)
        pdf.ln(1)
    else:
        writer.para(
            _("Signed by typing the full name (no drawn signature): %(name)s")
            % {"name": consent.signed_name},
            size=12,
        )
    writer.pair(_("Name given"), consent.signed_name)
    writer.pair(_("Client"), f"{consent.client.first_name} {consent.client.last_name}")
    writer.pair(_("Signed at"), _when(consent.signed_at, zone))
    writer.pair(_("Signed"), consent.get_via_display())
    writer.pair(_("Device"), consent.device or "-")
    writer.pair(_("Network address"), consent.ip_address or "-")
    writer.pair(_("Browser"), consent.user_agent or "-")
    if consent.taken_by_id:
        taker = consent.taken_by
        writer.pair(_("Consent taken by"), taker.get_full_name() or taker.get_username())
    writer.pair(_("Template version"), str(consent.version))
    writer.pair(_("SHA-256 of the text"), consent.text_sha256, size=8)
    if consent.withdrawn_at is not None:
        who = consent.withdrawn_by
        writer.pair(_("Withdrawn at"), _when(consent.withdrawn_at, zone))
        if who is not None:
            writer.pair(_("Withdrawal recorded by"), who.get_full_name() or who.get_username())
        writer.pair(_("Why"), consent.withdrawn_reason)
    pdf.ln(2)
    writer.para(
        _(
            "The SHA-256 above is computed over the consent's text exactly as it was shown "
            "when it was signed (UTF-8). Any change to that text gives another value."
        ),
        size=8.5,
        gap=1,
    )
    if writer.missing:
        writer.para(
            _(
                "This copy was made without a font for every character: characters it could "
                "not draw are written as their Unicode code points, e.g. [U+0141]. The record "
                "keeps the name exactly as given."
            ),
            size=8.5,
        )
    return bytes(pdf.output())
