"""Turn an uploaded text file into clean UTF-8 for DuckDB, streaming, and explain when it is not.

DuckDB reads UTF-8 fast and in parallel, so UTF-8 files are read where they are. DuckDB would keep a
NUL byte silently inside a string, so something must look for them: for CSV the import's SQL does it
as part of its single pass (and :func:`find_nul` then names the line), for other text a quick pass
here does. Files in any other encoding are transcoded chunk by chunk to a UTF-8 copy in the import's
scratch folder; that pass also finds NUL bytes and undecodable bytes, with their line numbers.
"""

from __future__ import annotations

import codecs
import shutil
from dataclasses import dataclass
from pathlib import Path

from modelworks.engine.io.errors import EncodingError, NulByteError
from modelworks.engine.io.sniff import guess_encoding

__all__ = [
    "PreparedText",
    "diagnose_utf8",
    "drop_end_of_file_junk",
    "drop_utf8_bom",
    "find_nul",
    "normalise_line_breaks",
    "prepare_text",
]

_CHUNK = 8 << 20


@dataclass(frozen=True)
class PreparedText:
    """A UTF-8 text file ready for DuckDB.

    Attributes:
        path: the file to read (the source itself, or a transcoded copy in the scratch folder).
        encoding: the encoding of the source.
    """

    path: Path
    encoding: str


def prepare_text(
    source: Path, encoding: str, scratch: Path, *, label: str, scan_utf8: bool = True
) -> PreparedText:
    """Check a text file for NUL bytes and transcode it to UTF-8 if needed.

    Args:
        scan_utf8: look for NUL bytes in a UTF-8 file here (the CSV path checks in SQL instead).

    Raises:
        NulByteError: a NUL byte was found (the message gives its line).
        EncodingError: the file holds bytes that are not valid in ``encoding``.
    """
    if encoding in ("utf-8", "utf-8-sig"):
        if scan_utf8:
            find_nul(source, label=label)
        return PreparedText(path=source, encoding="utf-8")
    target = scratch / "source-utf8.txt"
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    with open(source, "rb") as raw, open(target, "w", encoding="utf-8", newline="") as out:
        for chunk in iter(lambda: raw.read(_CHUNK), b""):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                before = codecs.decode(chunk[: exc.start], encoding, errors="ignore")
                bad_line = line + before.count("\n")
                raise EncodingError(
                    f"line {bad_line} of {label!r} holds bytes that are not valid {encoding} "
                    f"({chunk[exc.start : exc.end]!r}): the file mixes encodings or is damaged; "
                    "re-save it as UTF-8",
                    file=label,
                    line=bad_line,
                    encoding=encoding,
                ) from exc
            nul = text.find("\x00")
            if nul >= 0:
                raise _nul_error(label, line + text.count("\n", 0, nul))
            line += text.count("\n")
            out.write(text)
        out.write(decoder.decode(b"", final=True))
    return PreparedText(path=target, encoding=encoding)


def normalise_line_breaks(text: PreparedText, scratch: Path) -> PreparedText:
    """Rewrite a UTF-8 file whose lines end in a lone CR (classic Mac, old Excel for Mac) with LF.

    DuckDB's reader and the dialect detection split records on LF; without this, such a file reads
    as a single line. Only files whose first megabyte holds a CR and no LF at all are rewritten, so
    CRLF files and CRs inside quoted fields of LF files are left alone.
    """
    with open(text.path, "rb") as raw:
        head = raw.read(1 << 20)
    if b"\r" not in head or b"\n" in head:
        return text
    target = scratch / "source-lf.txt"
    # In UTF-8 the CR byte only ever encodes CR, so replacing bytes is safe.
    with open(text.path, "rb") as raw, open(target, "wb") as out:
        for chunk in iter(lambda: raw.read(_CHUNK), b""):
            out.write(chunk.replace(b"\r", b"\n"))
    return PreparedText(path=target, encoding=text.encoding)


_TAIL_BYTES = 64 << 10
_JUNK = b" \t\r\n\x0c\x1a"


def drop_end_of_file_junk(text: PreparedText, scratch: Path) -> PreparedText:
    """Leave out what old systems write after the last line: a Ctrl-Z (``\\x1a``, the DOS end-of-file
    mark) and lines of spaces. DuckDB would read either as a row with one field, and refuse the file
    as ragged. Only such files are copied (without their tail); the others are returned as they are.
    """
    size = text.path.stat().st_size
    with open(text.path, "rb") as raw:
        raw.seek(max(0, size - _TAIL_BYTES))
        tail = raw.read()
    run = len(tail) - len(tail.rstrip(_JUNK))
    if run == 0:
        return text
    junk = tail[len(tail) - run :]
    if b"\x1a" in junk:
        keep = size - run + junk.index(b"\x1a")
    else:
        newline = junk.find(b"\n")
        if newline < 0 or not junk[newline:].strip(b"\r\n"):
            return text  # only line breaks (blank lines are skipped), or spaces ending the last value
        keep = size - run + newline + 1
    target = scratch / "source-trimmed.txt"
    with open(text.path, "rb") as raw, open(target, "wb") as out:
        remaining = keep
        while remaining > 0:
            chunk = raw.read(min(_CHUNK, remaining))
            if not chunk:
                break
            out.write(chunk)
            remaining -= len(chunk)
    return PreparedText(path=target, encoding=text.encoding)


def drop_utf8_bom(text: PreparedText, scratch: Path) -> PreparedText:
    """A copy of a UTF-8 file without its byte order mark, which DuckDB's JSON reader refuses."""
    with open(text.path, "rb") as raw:
        if raw.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            return text
        target = scratch / "source-nobom.txt"
        with open(target, "wb") as out:
            shutil.copyfileobj(raw, out, _CHUNK)
    return PreparedText(path=target, encoding=text.encoding)


def diagnose_utf8(source: Path, *, label: str) -> EncodingError:
    """Build the error for a file DuckDB found to be invalid UTF-8: where, and what it looks like."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    line = 1
    offset = 0
    with open(source, "rb") as raw:
        for chunk in iter(lambda: raw.read(_CHUNK), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The decoder keeps up to 3 bytes of an unfinished character from the previous chunk.
                start = max(0, exc.start - len(exc.object) + len(chunk))
                bad_line = line + chunk.count(b"\n", 0, start)
                line_start = chunk.rfind(b"\n", 0, start) + 1
                line_end = chunk.find(b"\n", start)
                snippet = chunk[line_start : line_end if line_end >= 0 else len(chunk)]
                guess = guess_encoding(snippet) or "cp1252"
                where = "the lines before it are UTF-8, so the file mixes encodings" if bad_line > 1 else ""
                return EncodingError(
                    f"line {bad_line} of {label!r} is not valid UTF-8 (byte {chunk[start : start + 1]!r} at "
                    f"byte offset {offset + start}); {where + '; ' if where else ''}it looks like {guess!r}. "
                    f"Re-save the file as UTF-8, or choose encoding {guess!r} if the whole file uses it",
                    file=label,
                    line=bad_line,
                    suggested=guess,
                )
            line += chunk.count(b"\n")
            offset += len(chunk)
    return EncodingError(f"{label!r} is not valid UTF-8; re-save it as UTF-8", file=label)


def find_nul(source: Path, *, label: str) -> None:
    """Raise :class:`NulByteError` naming the line of the first NUL byte of a file, if it has one."""
    lines_before = 0
    with open(source, "rb") as raw:
        for chunk in iter(lambda: raw.read(_CHUNK), b""):
            # bytes.find is a memchr: lines are only counted for the chunks before a hit.
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise _nul_error(label, 1 + lines_before + chunk.count(b"\n", 0, nul))
            lines_before += chunk.count(b"\n")


def _nul_error(label: str, line: int) -> NulByteError:
    return NulByteError(
        f"line {line} of {label!r} holds a NUL byte (\\x00), which text files must not contain: the file is "
        "binary or damaged; remove the NUL bytes or export the data again as plain text",
        file=label,
        line=line,
    )
