"""Errors of the data I/O package: storage, import, export.

Every import error means that nothing was stored: the staged file is removed before the error
leaves :func:`~modelworks.engine.io.import_file`.
"""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = [
    "CorruptFileError",
    "DatasetError",
    "DatasetImportError",
    "DuplicateHeaderError",
    "EmptyFileError",
    "EncodingError",
    "ExportError",
    "FileTooLargeError",
    "FormatMismatchError",
    "InvalidImportOptionError",
    "InvalidObjectIdError",
    "NulByteError",
    "ObjectNotFoundError",
    "RaggedRowsError",
    "SheetNotFoundError",
    "StorageError",
    "TooManyColumnsError",
    "TypeMismatchError",
    "UnsupportedFormatError",
    "VersionNotFoundError",
]


class DatasetError(EngineError):
    """Base of the errors of ``modelworks.engine.io``."""

    code = "dataset_error"


class StorageError(DatasetError):
    """The object store could not do what was asked."""

    code = "storage_error"


class InvalidObjectIdError(StorageError):
    """A string that is not a generated object ID was used as one (IDs are 32 hex digits)."""

    code = "invalid_object_id"


class ObjectNotFoundError(StorageError):
    """No object with this ID exists in the store."""

    code = "object_not_found"


class VersionNotFoundError(DatasetError):
    """The Parquet file of a dataset version is missing or unreadable."""

    code = "version_not_found"


class DatasetImportError(DatasetError):
    """Base of the errors raised while importing a file; nothing was stored."""

    code = "import_error"


class InvalidImportOptionError(DatasetImportError):
    """An import option is invalid (unknown type name, unknown column in an override, …)."""

    code = "invalid_option"


class FileTooLargeError(DatasetImportError):
    """The file is bigger than the configured limit (checked before reading it)."""

    code = "file_too_large"


class EmptyFileError(DatasetImportError):
    """The file has no bytes, or no data at all."""

    code = "empty_file"


class UnsupportedFormatError(DatasetImportError):
    """The file is in a format Modelworks does not import (binary, legacy .xls, a plain zip…)."""

    code = "unsupported_format"


class FormatMismatchError(DatasetImportError):
    """The file's content does not match its extension or the chosen format."""

    code = "format_mismatch"


class EncodingError(DatasetImportError):
    """The text is not in the declared (or detected) encoding, or mixes encodings."""

    code = "encoding_error"


class NulByteError(DatasetImportError):
    """A text file holds a NUL byte, which no CSV or JSON text may contain."""

    code = "nul_byte"


class RaggedRowsError(DatasetImportError):
    """A row has more or fewer fields than the header."""

    code = "ragged_rows"


class DuplicateHeaderError(DatasetImportError):
    """Two columns have the same name and the import was asked to reject that."""

    code = "duplicate_header"


class TooManyColumnsError(DatasetImportError):
    """The file has more columns than the configured limit."""

    code = "too_many_columns"


class TypeMismatchError(DatasetImportError):
    """A value does not fit the type chosen for its column."""

    code = "type_mismatch"


class CorruptFileError(DatasetImportError):
    """The file is damaged: truncated Parquet, malformed JSON, a broken workbook…"""

    code = "corrupt_file"


class SheetNotFoundError(DatasetImportError):
    """The workbook has no sheet with the requested name or position."""

    code = "sheet_not_found"


class ExportError(DatasetError):
    """A dataset version could not be exported."""

    code = "export_error"
