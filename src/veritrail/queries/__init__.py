"""Reads of Veritrail, each filtered by what the actor may see."""

from veritrail.queries.declarations import (
    declaration_detail,
    diff_versions,
    list_declarations,
    original_file,
    status_table,
    version_document,
    version_export,
)

__all__ = [
    "declaration_detail",
    "diff_versions",
    "list_declarations",
    "original_file",
    "status_table",
    "version_document",
    "version_export",
]
