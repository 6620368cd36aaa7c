"""What a file really is: format from its first bytes, text encoding, and the checks done before reading.

The extension of an uploaded file is a claim made by whoever named it. The format comes from the
content (magic bytes); when the extension or the chosen format disagrees with the content the import
stops and says so, rather than guessing which of the two the user meant.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import zipfile
from dataclasses import dataclass

import charset_normalizer

from modelworks.engine.io.errors import (
    CorruptFileError,
    EncodingError,
    FormatMismatchError,
    InvalidImportOptionError,
    UnsupportedFormatError,
)

__all__ = [
    "FORMATS",
    "Content",
    "detect_encoding",
    "guess_encoding",
    "read_head",
    "resolve_format",
    "sniff_content",
]

#: Formats :func:`~modelworks.engine.io.import_file` reads. ``tsv`` is CSV with a tab delimiter.
FORMATS = ("csv", "tsv", "parquet", "xlsx", "jsonl")

HEAD_BYTES = 1 << 20

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".xls": "xls",
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Formats we recognise only to name them in a message.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (
        _OLE_MAGIC,
        "a legacy Excel 97-2003 workbook (.xls); open it in Excel or LibreOffice and save it as .xlsx or CSV",
    ),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"BZh", "a bzip2-compressed file; decompress it first"),
    (b"\xfd7zXZ\x00", "an xz-compressed file; decompress it first"),
    (b"(\xb5/\xfd", "a zstd-compressed file; decompress it first"),
    (b"7z\xbc\xaf'\x1c", "a 7-Zip archive; extract the data file first"),
    (b"Rar!", "a RAR archive; extract the data file first"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable program"),
    (b"MZ", "a Windows executable"),
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Content:
    """What the first bytes say about a file.

    Attributes:
        kind: ``parquet``, ``xlsx``, ``jsonl``, ``text`` (delimited text), or ``binary``.
        description: how to name it in a message ("a Parquet file", "a PNG image"…).
    """

    kind: str
    description: str


def read_head(path: str | os.PathLike[str], size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file."""
    with open(path, "rb") as handle:
        return handle.read(size)


def sniff_content(path: str | os.PathLike[str], head: bytes) -> Content:
    """Classify a file by its content alone."""
    if head.startswith(b"PAR1"):
        return Content("parquet", "a Parquet file")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path)
    if head.startswith(_OLE_MAGIC) and "EncryptedPackage".encode("utf-16-le") in head:
        # Excel saves a workbook protected by a password to open as an encrypted OLE file.
        return Content(
            "binary",
            "a password-protected Excel workbook; open it in Excel, remove the password to open "
            "(File > Info > Protect Workbook > Encrypt with Password) and save it again",
        )
    for magic, description in _OTHER_MAGIC:
        if head.startswith(magic):
            return Content("binary", description)
    if _looks_binary(head):
        return Content("binary", "a binary file, not text")
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    markup = _markup(text)
    if markup is not None:
        return Content("binary", markup)
    if text[:1] == b"{" and _first_line_is_json_object(text):
        return Content("jsonl", "JSON Lines text")
    if text[:1] == b"{" and text[1:].lstrip()[:1] == b'"':
        # An object spread over several lines (pretty-printed JSON): not JSON Lines, and not CSV.
        return Content(
            "binary",
            "a JSON document written over several lines; save it as JSON Lines (one object per line)",
        )
    if text[:1] == b"[" and text[1:].lstrip()[:1] == b"{":
        return Content("binary", "a JSON array document; convert it to JSON Lines (one object per line)")
    return Content("text", "delimited text (CSV/TSV)")


def resolve_format(content: Content, *, label: str, declared: str | None) -> str:
    """Choose the import format, refusing when the extension or the chosen format lies.

    Args:
        content: what :func:`sniff_content` found.
        label: the file name as the user gave it (only its extension is used).
        declared: the format the user chose, or None to go by content.

    Returns:
        One of :data:`FORMATS`.
    """
    if declared is not None:
        declared = declared.strip().lower()
        if declared not in FORMATS:
            raise InvalidImportOptionError(
                f"format {declared!r} is not supported; choose one of {', '.join(FORMATS)}", format=declared
            )
    if content.kind == "binary":
        raise UnsupportedFormatError(
            f"{label!r} is {content.description}; Modelworks imports CSV/TSV, Parquet, Excel (.xlsx) "
            "and JSON Lines",
            file=label,
        )
    ext = os.path.splitext(label)[1].lower()
    claimed_by_ext = _EXTENSIONS.get(ext)
    if declared is not None:
        if not _compatible(declared, content.kind):
            raise FormatMismatchError(
                f"format {declared!r} was chosen for {label!r}, but its content is {content.description}; "
                f"choose format {_format_for(content.kind)!r} or upload the intended file",
                file=label,
                declared=declared,
                detected=_format_for(content.kind),
            )
        return declared
    if claimed_by_ext is not None and not _compatible(claimed_by_ext, content.kind):
        raise FormatMismatchError(
            f"{label!r} is named like a {ext} file, but its content is {content.description}; "
            f"rename it with the right extension or choose format {_format_for(content.kind)!r} explicitly",
            file=label,
            extension=ext,
            detected=_format_for(content.kind),
        )
    if content.kind == "text":
        return "tsv" if claimed_by_ext == "tsv" else "csv"
    return content.kind


def detect_encoding(head: bytes, declared: str | None, *, label: str) -> str:
    """The encoding of a text file, as a Python codec name.

    A declared encoding is checked against the head of the file; without one, a BOM decides, then
    UTF-8 if the head decodes as UTF-8, then charset-normalizer's best guess.

    Raises:
        InvalidImportOptionError: the declared encoding is unknown.
        EncodingError: the file is not in the declared encoding (the message suggests the right one).
    """
    if declared is not None:
        try:
            declared = codecs.lookup(declared).name
        except LookupError as exc:
            raise InvalidImportOptionError(
                f"encoding {declared!r} is unknown; use a name such as 'utf-8', 'latin-1' or 'cp1252'",
                encoding=declared,
            ) from exc
        if not _decodes(head, declared):
            guess = _guess(head)
            hint = f"; it looks like {guess!r}: choose that encoding" if guess and guess != declared else ""
            raise EncodingError(
                f"{label!r} is not valid {declared} text (near byte {_first_bad_byte(head, declared)}){hint}, "
                "or re-save the file as UTF-8",
                file=label,
                encoding=declared,
                suggested=guess,
            )
        return declared
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if _looks_utf16_without_bom(head):
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    if _decodes(head, "utf-8"):
        return "utf-8"
    guess = _guess(head)
    if guess is None:
        raise EncodingError(
            f"the text encoding of {label!r} could not be recognised; re-save the file as UTF-8 "
            "or choose its encoding explicitly",
            file=label,
        )
    return guess


def _sniff_zip(path: str | os.PathLike[str]) -> Content:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            strict = "xl/workbook.xml" in names and _STRICT_OOXML in archive.read("xl/workbook.xml")[:4096]
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFileError(
            f"the file is a damaged zip archive (an .xlsx workbook is a zip): {exc}; export it again",
            file=str(path),
        ) from exc
    if strict:
        return Content(
            "binary",
            'an Excel workbook saved as "Strict Open XML Spreadsheet", which cannot be read; open it in '
            'Excel and save it as "Excel Workbook (.xlsx)"',
        )
    if "xl/workbook.xml" in names:
        return Content("xlsx", "an Excel workbook (.xlsx)")
    if "xl/workbook.bin" in names:
        return Content(
            "binary", "an Excel binary workbook (.xlsb); open it in Excel and save it as .xlsx or CSV"
        )
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return Content(
            "binary",
            "an OpenDocument spreadsheet (.ods); open it in LibreOffice or Excel and save it as .xlsx or CSV",
        )
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        return Content("binary", "a Word or PowerPoint document, not a table")
    return Content("binary", "a zip archive; extract the data file first")


# Namespaces of Excel's "Strict Open XML Spreadsheet" format, which openpyxl cannot read.
_STRICT_OOXML = b"purl.oclc.org/ooxml/spreadsheetml"


_HTML_START = re.compile(
    rb"<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|table[\s>]|meta[\s>])", re.IGNORECASE
)


def _markup(text: bytes) -> str | None:
    """How to name a markup document (HTML, XML) that reached the importer, or None if it is not one.

    Some systems export "Excel" files that are really an HTML table or an Excel 2003 XML spreadsheet
    named ``.xls``; a download whose session expired saves a login page as ``.csv``.
    """
    if text.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = text.decode("utf-16", errors="ignore").encode("utf-8")
    elif _looks_utf16_without_bom(text):
        little = text[1::2].count(0) > text[0::2].count(0)
        text = text.decode("utf-16-le" if little else "utf-16-be", errors="ignore").encode("utf-8")
    start = text[:4096].lstrip(codecs.BOM_UTF8).lstrip()
    if not start.startswith(b"<"):
        return None
    if start.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in start or b"<Workbook" in start:
            return (
                "an Excel 2003 XML spreadsheet, not a current workbook; open it in Excel or LibreOffice "
                "and save it as .xlsx or CSV"
            )
        return "an XML document, not a table; export the data as CSV, .xlsx or JSON Lines"
    if _HTML_START.match(start):
        if b"<table" in text.lower():
            return (
                "a web page (HTML) holding a table, not a spreadsheet (some systems export HTML named .xls); "
                "open it in Excel or LibreOffice and save it as .xlsx or CSV"
            )
        return (
            "a web page (HTML), not data: often a login or error page saved instead of the export; "
            "download the data again"
        )
    return None


def _looks_binary(head: bytes) -> bool:
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if _looks_utf16_without_bom(head):
        return False
    # Text has almost no control bytes; a few stray NULs are reported later, line by line.
    sample = head[:8192]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls > max(8, 0.10 * len(sample))


def _looks_utf16_without_bom(head: bytes) -> bool:
    sample = head[:4096]
    if len(sample) < 4:
        return False
    even_zero = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_zero = sample[1::2].count(0) / max(1, len(sample[1::2]))
    return max(even_zero, odd_zero) > 0.4 and min(even_zero, odd_zero) < 0.05


def _first_line_is_json_object(text: bytes) -> bool:
    line = text.split(b"\n", 1)[0].strip()
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _compatible(fmt: str, kind: str) -> bool:
    if fmt in ("csv", "tsv"):
        return kind == "text"
    return fmt == kind


def _format_for(kind: str) -> str:
    return "csv" if kind == "text" else kind


def _decodes(head: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        # final=False: the head may end in the middle of a multi-byte character.
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_byte(head: bytes, encoding: str) -> int:
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(head, final=False)
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _guess(head: bytes) -> str | None:
    return guess_encoding(head[:65536])


def guess_encoding(data: bytes) -> str | None:
    """charset-normalizer's guess, with a tie-break for Western European text.

    On short samples charset-normalizer often cannot tell the Latin code pages apart (``café`` is
    cp1250, cp1252 and cp775 alike). When its guess is one of them and the bytes read as sensible
    Western text in cp1252 (what Excel on Windows writes), cp1252 wins.
    """
    if _isolated_high_bytes(data) and _reads_as_western(data):
        # Every non-ASCII byte stands alone, between ASCII ones: single-byte Western text (é, €, curly quotes).
        # charset-normalizer tends to call short samples like this a CJK encoding (johab, big5…),
        # whose characters take two bytes, mostly both non-ASCII; that would swallow delimiters.
        return "cp1252"
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    guess = codecs.lookup(best.encoding).name
    if guess in _LATIN_CODE_PAGES and _reads_as_western(data):
        return "cp1252"
    return guess


_LATIN_CODE_PAGES = {
    codecs.lookup(name).name
    for name in (
        "cp1250", "cp1252", "cp1257", "cp775", "cp850", "cp437", "latin-1", "iso8859-2", "iso8859-3",
        "iso8859-4", "iso8859-9", "iso8859-10", "iso8859-13", "iso8859-15", "mac-latin2", "mac-roman",
    )
}  # fmt: skip

# Punctuation Western text uses; the signs cp1250 letters turn into (³ for ł, ¹ for ą…) are left out.
_WESTERN_EXTRAS = set("€‚„…†‡‰‘’“”•–—™«»°±²µ·º¿×÷£¥§©®¢")  # noqa: RUF001


def _isolated_high_bytes(data: bytes) -> bool:
    previous_high = False
    seen = False
    for byte in data:
        high = byte >= 0x80
        if high and previous_high:
            return False
        seen = seen or high
        previous_high = high
    return seen


def _reads_as_western(data: bytes) -> bool:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    special = [c for c in text if ord(c) > 127]
    sensible = sum(1 for c in special if c.isalpha() or c in _WESTERN_EXTRAS)
    return sensible >= 0.95 * len(special)
