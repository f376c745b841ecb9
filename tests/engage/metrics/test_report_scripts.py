"""Arabic-script and Ethiopic text in the after-action PDF: shaped by HarfBuzz and in visual order.

The glyphs the PDF draws are read back from it: the codes shown in the content stream, through the
CIDToGIDMap, to the outline of each glyph in the embedded font subset. Each outline is matched to
the glyph of the same shape in the full font, and the sequence compared with what HarfBuzz itself
gives for the same word. Without shaping, fpdf2 draws each letter's isolated form from the cmap in
logical order, and the comparison fails.
"""

from __future__ import annotations

import io

import pytest
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont

from engage.metrics import reports
from tests.engage.public_helpers import corrected_rumour

pytestmark = pytest.mark.django_db

ARABIC_NAME = "مسيرة السلام"             # "the peace march"
FARSI_PLACE = "میدان آزادی"              # "Freedom Square"
TIGRINYA_CLAIM = "ድልድይ ፈሪሱ ኣሎ"          # "the bridge has collapsed"
URDU_CLAIM = "پانی کہاں ہے"                # "where is the water?" (ہ and ے: letters DejaVu Sans lacks)


def _outline(glyphset, name: str) -> tuple:
    pen = DecomposingRecordingPen(glyphset)
    glyphset[name].draw(pen)
    return tuple(pen.value)


def _drawn_glyphs(pdf: bytes, base_font: str) -> list[tuple]:
    """The outlines of the glyphs the PDF shows in the font named ``base_font`` (regular or bold; fpdf2
    names it "MPDFAA+<name without spaces>"), in drawing order, over every page."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    prefix = "/MPDFAA+" + base_font.replace(" ", "")
    out: list[tuple] = []
    for page in reader.pages:
        fonts = {}
        for key, ref in page["/Resources"]["/Font"].items():
            font = ref.get_object()
            if str(font["/BaseFont"]).startswith(prefix):
                cid_font = font["/DescendantFonts"][0].get_object()
                subset = TTFont(io.BytesIO(cid_font["/FontDescriptor"]["/FontFile2"].get_object().get_data()))
                fonts[key] = (cid_font["/CIDToGIDMap"].get_object().get_data(), subset.getGlyphOrder(),
                              subset.getGlyphSet())
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = fonts.get(operands[0])
            elif operator in (b"Tj", b"TJ") and current is not None:
                gid_map, order, glyphset = current
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for string in strings:
                    if isinstance(string, (int, float)):
                        continue
                    data = string.original_bytes if hasattr(string, "original_bytes") else bytes(string)
                    for i in range(0, len(data), 2):
                        cid = (data[i] << 8) | data[i + 1]
                        gid = (gid_map[2 * cid] << 8) | gid_map[2 * cid + 1]
                        out.append(_outline(glyphset, order[gid]))
    assert out, f"nothing is drawn in {base_font}"
    return out


def _harfbuzz(font_file: str, text: str) -> tuple[list[tuple], list[tuple]]:
    """HarfBuzz's glyphs for ``text`` (visual order), and the unshaped ones (each letter's cmap glyph,
    logical order), as outlines of the full font."""
    import uharfbuzz as hb

    path = reports.FONTS / font_file
    blob = hb.Blob.from_file_path(str(path))
    font = hb.Font(hb.Face(blob))
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf, {})
    full = TTFont(str(path))
    order, glyphset, cmap = full.getGlyphOrder(), full.getGlyphSet(), full.getBestCmap()
    shaped = [_outline(glyphset, order[info.codepoint]) for info in buf.glyph_infos]
    plain = [_outline(glyphset, cmap[ord(ch)]) for ch in text]
    return shaped, plain


def _contains(haystack: list, needle: list) -> bool:
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


@pytest.fixture
def pdf(world):
    tw = world.a
    tw.event.name = ARABIC_NAME
    tw.event.location = FARSI_PLACE
    tw.event.save(update_fields=["name", "location"])
    corrected_rumour(tw, claim=TIGRINYA_CLAIM)
    corrected_rumour(tw, claim=URDU_CLAIM)  # a table cell
    content, _name = reports.report_pdf(actor=tw.supervisor, event_id=tw.event.pk)
    return content


def test_arabic_farsi_and_urdu_are_drawn_as_harfbuzz_shapes_them_right_to_left(pdf):
    drawn = _drawn_glyphs(pdf, "Noto Naskh Arabic")
    for word in [*ARABIC_NAME.split(), *FARSI_PLACE.split(), *URDU_CLAIM.split()]:
        shaped, plain = _harfbuzz("NotoNaskhArabic-Regular.ttf", word)
        assert shaped != plain, word  # joined forms, right to left: not the letters one by one
        assert _contains(drawn, shaped), f"{word}: not drawn as HarfBuzz shapes it"
        assert not _contains(drawn, plain), f"{word}: drawn as unjoined letters"


def test_tigrinya_is_drawn_in_an_ethiopic_font(pdf):
    drawn = _drawn_glyphs(pdf, "Noto Sans Ethiopic")
    for word in TIGRINYA_CLAIM.split():
        shaped, _plain = _harfbuzz("NotoSansEthiopic-Regular.ttf", word)
        assert _contains(drawn, shaped), word


def test_the_pdf_points_to_the_accessible_web_page(pdf, world):
    from pypdf import PdfReader

    first = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())  # lines may wrap anywhere
    assert "Theaccessibleversionofthisreportisitswebpage" in first
    assert f"/desk/dashboard/events/{world.a.event.pk}/report/" in first


def test_shaping_is_needed_for_the_check_to_pass(world):
    """The check itself: a PDF rendered without shaping fails it (guards against a vacuous test)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font(reports.ARABIC, "", str(reports.FONTS / "NotoNaskhArabic-Regular.ttf"))
    pdf.add_page()
    pdf.set_font(reports.ARABIC, size=12)
    pdf.cell(0, 10, ARABIC_NAME)
    drawn = _drawn_glyphs(bytes(pdf.output()), "Noto Naskh Arabic")
    shaped, plain = _harfbuzz("NotoNaskhArabic-Regular.ttf", ARABIC_NAME.split()[0])
    assert not _contains(drawn, shaped) and _contains(drawn, plain)

