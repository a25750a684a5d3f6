"""PDF and DOCX articles read as text, with offsets into the extracted text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
import pytest

from llm_extract.articles import load_article
from llm_extract.errors import ArticleError
from llm_extract.ground import ground_quote


def _pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a Helvetica text layer, byte offsets computed."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_pdf_is_read_as_text_and_quotes_ground_in_it(tmp_path: Path) -> None:
    path = tmp_path / "talks.pdf"
    path.write_bytes(_pdf(["GENEVA, March 5, 2026 - The ministers met yesterday.", "End."]))
    article = load_article(path)
    assert article.id == "talks"
    assert article.encoding == "pdf"
    assert article.published == dt.date(2026, 3, 5)
    span = ground_quote("The ministers met yesterday.", article.text)
    assert span is not None
    assert article.text[span.start : span.end] == "The ministers met yesterday."


def test_docx_is_read_as_text(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("КИЇВ, 5 березня 2026 — Учора міністри зустрілися.")
    document.add_paragraph("")
    document.add_paragraph("Сторони домовилися продовжити переговори.")
    path = tmp_path / "talks.docx"
    document.save(str(path))
    article = load_article(path)
    assert article.encoding == "docx"
    assert article.text == (
        "КИЇВ, 5 березня 2026 — Учора міністри зустрілися.\n"
        "Сторони домовилися продовжити переговори."
    )
    assert article.published == dt.date(2026, 3, 5)
    assert article.language == "uk"


def test_a_pdf_without_text_says_convert_to_text(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(_pdf([]))
    with pytest.raises(ArticleError, match=r"scan\.pdf: cannot read this PDF as text .*convert it"):
        load_article(path)


def test_a_damaged_pdf_says_convert_to_text(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 50)
    with pytest.raises(ArticleError, match=r"convert it to a \.txt file"):
        load_article(path)
