"""Data I/O: the object store, file import into immutable Parquet versions, CSV export.

Public API:

* ``Store`` (the interface), ``LocalStore``, ``StoredObject``, ``StagedFile``: where versions live,
  addressed only by generated IDs, written atomically.
* ``import_file(source_path, *, store, format=None, options=None) -> VersionInfo``; ``ImportOptions``,
  ``VersionInfo``, ``SourceInfo``, ``ColumnSchema``, ``Rename``.
* ``read_schema(version_path)``: the schema of a stored version, from its footer.
* ``export_csv(version_path, destination, *, columns=None)``: spreadsheet-safe CSV.
* ``LOGICAL_TYPES``, ``FORMATS``, ``MAX_HEADER_ROWS``, ``MAX_SKIP_ROWS``: what a user may choose.
* Errors: ``DatasetError`` and its subclasses (see ``modelworks.engine.io.errors``).

The names are loaded on first use (PEP 562 ``__getattr__``): the web server imports the datasets app,
which needs the store and the schema types, and must not load DuckDB to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelworks.engine.io.errors import (
        CorruptFileError,
        DatasetError,
        DatasetImportError,
        DuplicateHeaderError,
        EmptyFileError,
        EncodingError,
        ExportError,
        FileTooLargeError,
        FormatMismatchError,
        InvalidImportOptionError,
        InvalidObjectIdError,
        NulByteError,
        ObjectNotFoundError,
        RaggedRowsError,
        SheetNotFoundError,
        StorageError,
        TooManyColumnsError,
        TypeMismatchError,
        UnsupportedFormatError,
        VersionNotFoundError,
    )
    from modelworks.engine.io.export import (
        export_csv,
    )
    from modelworks.engine.io.headers import (
        Rename,
    )
    from modelworks.engine.io.importer import (
        import_file,
    )
    from modelworks.engine.io.schema import (
        LOGICAL_TYPES,
        ColumnSchema,
        read_schema,
    )
    from modelworks.engine.io.sniff import (
        FORMATS,
    )
    from modelworks.engine.io.storage import (
        LocalStore,
        StagedFile,
        Store,
        StoredObject,
    )
    from modelworks.engine.io.versions import (
        DEFAULT_NULL_VALUES,
        MAX_HEADER_ROWS,
        MAX_SKIP_ROWS,
        ImportOptions,
        SourceInfo,
        VersionInfo,
    )

_HOME = {
    "CorruptFileError": "errors",
    "DatasetError": "errors",
    "DatasetImportError": "errors",
    "DuplicateHeaderError": "errors",
    "EmptyFileError": "errors",
    "EncodingError": "errors",
    "ExportError": "errors",
    "FileTooLargeError": "errors",
    "FormatMismatchError": "errors",
    "InvalidImportOptionError": "errors",
    "InvalidObjectIdError": "errors",
    "NulByteError": "errors",
    "ObjectNotFoundError": "errors",
    "RaggedRowsError": "errors",
    "SheetNotFoundError": "errors",
    "StorageError": "errors",
    "TooManyColumnsError": "errors",
    "TypeMismatchError": "errors",
    "UnsupportedFormatError": "errors",
    "VersionNotFoundError": "errors",
    "export_csv": "export",
    "Rename": "headers",
    "import_file": "importer",
    "LOGICAL_TYPES": "schema",
    "ColumnSchema": "schema",
    "read_schema": "schema",
    "FORMATS": "sniff",
    "LocalStore": "storage",
    "StagedFile": "storage",
    "Store": "storage",
    "StoredObject": "storage",
    "DEFAULT_NULL_VALUES": "versions",
    "MAX_HEADER_ROWS": "versions",
    "MAX_SKIP_ROWS": "versions",
    "ImportOptions": "versions",
    "SourceInfo": "versions",
    "VersionInfo": "versions",
}

__all__ = [
    "DEFAULT_NULL_VALUES",
    "FORMATS",
    "LOGICAL_TYPES",
    "MAX_HEADER_ROWS",
    "MAX_SKIP_ROWS",
    "ColumnSchema",
    "CorruptFileError",
    "DatasetError",
    "DatasetImportError",
    "DuplicateHeaderError",
    "EmptyFileError",
    "EncodingError",
    "ExportError",
    "FileTooLargeError",
    "FormatMismatchError",
    "ImportOptions",
    "InvalidImportOptionError",
    "InvalidObjectIdError",
    "LocalStore",
    "NulByteError",
    "ObjectNotFoundError",
    "RaggedRowsError",
    "Rename",
    "SheetNotFoundError",
    "SourceInfo",
    "StagedFile",
    "StorageError",
    "Store",
    "StoredObject",
    "TooManyColumnsError",
    "TypeMismatchError",
    "UnsupportedFormatError",
    "VersionInfo",
    "VersionNotFoundError",
    "export_csv",
    "import_file",
    "read_schema",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
