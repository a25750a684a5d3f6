"""PDF and DOCX files as plain text, so an article saved from a browser or a word
processor needs no conversion first.

The extracted text is the article's text: every evidence offset points into it,
not into the file. Where no text can be had (a scanned PDF, an encrypted one, a
damaged file), the error says to convert the file to text.
"""

from __future__ import annotations

import io
import logging
import zipfile

from llm_extract.errors import ArticleError

__all__ = ["DOCUMENT_SUFFIXES", "read_document"]

DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx"})

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"


def read_document(data: bytes, source: str) -> tuple[str, str] | None:
    """(text, format) for PDF or DOCX bytes; None for anything else (read as text)."""
    if data.startswith(_PDF_MAGIC):
        return _pdf_text(data, source), "pdf"
    if data.startswith(_ZIP_MAGIC) and _is_docx(data):
        return _docx_text(data, source), "docx"
    return None


def _convert(source: str, kind: str, why: str) -> ArticleError:
    return ArticleError(
        f"{source}: cannot read this {kind} as text ({why}); convert it to a .txt file "
        "(e.g. pdftotext, or save as plain text) and extract that"
    )


def _pdf_text(data: bytes, source: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns about every odd object
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _convert(source, "PDF", "it is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as err:
        raise _convert(source, "PDF", f"it is damaged: {err}") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise _convert(source, "PDF", "it has no text layer, perhaps a scan")
    return text


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _docx_text(data: bytes, source: str) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile) as err:
        raise _convert(source, "DOCX", f"it is damaged: {err}") from None
    text = "\n".join(p.text.strip() for p in document.paragraphs if p.text.strip())
    if not text:
        raise _convert(source, "DOCX", "it has no paragraphs of text")
    return text
