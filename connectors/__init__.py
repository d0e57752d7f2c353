"""Connectors: pull records from the city's databases and file drops onto canonical datasets.

``kind = "sql"`` reads a table or query of any SQLAlchemy database (:mod:`connectors.sql`);
``kind = "files"`` takes CSV and XLSX drops from a folder (:mod:`connectors.files`);
``kind = "ocds"`` reads Open Contracting Data Standard files (:mod:`connectors.ocds`). All map
and type rows with :func:`connectors.mapping.map_source` (columns, constants, value maps,
derived columns) and yield :class:`~connectors.base.Batch` objects; see :mod:`connectors.base`
for the contract with the run pipeline.
"""

from __future__ import annotations

from connectors.base import (
    Batch,
    Connector,
    FileTaken,
    QuarantinedRow,
    SourceError,
    SourceState,
)
from connectors.registry import check_source, connector_kinds, make_connector, register

# Imported for their side effect: the built-in kinds register themselves.
from connectors import files as files  # noqa: E402  isort: skip
from connectors import ocds as ocds  # noqa: E402  isort: skip
from connectors import sql as sql  # noqa: E402  isort: skip

__all__ = [
    "Batch",
    "Connector",
    "FileTaken",
    "QuarantinedRow",
    "SourceError",
    "SourceState",
    "check_source",
    "connector_kinds",
    "make_connector",
    "register",
]
