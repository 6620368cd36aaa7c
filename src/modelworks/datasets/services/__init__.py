"""Dataset writes shared by the pages, the API and the jobs: atomic and audited.

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
"""

from __future__ import annotations

from modelworks.datasets.services.datasets import (
    delete_dataset,
    pin_version,
    record_access,
    update_dataset,
    version_path,
)
from modelworks.datasets.services.imports import (
    OPTION_NAMES,
    check_header_names,
    clean_import_options,
    create_version,
    engine_options,
    submit_connection_import,
    submit_reimport,
    submit_upload_import,
)
from modelworks.datasets.services.quality import add_rule, delete_rule, run_quality, save_profile, update_rule

__all__ = [
    "OPTION_NAMES",
    "add_rule",
    "check_header_names",
    "clean_import_options",
    "create_version",
    "delete_dataset",
    "delete_rule",
    "engine_options",
    "pin_version",
    "record_access",
    "run_quality",
    "save_profile",
    "submit_connection_import",
    "submit_reimport",
    "submit_upload_import",
    "update_dataset",
    "update_rule",
    "version_path",
]
