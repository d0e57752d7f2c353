"""Connectors: pull records from the city's databases and file drops onto canonical datasets.

``kind = "sql"`` reads a table or query of any SQLAlchemy database (:mod:`naebu.connectors.sql`);
``kind = "files"`` takes CSV and XLSX drops from a folder (:mod:`naebu.connectors.files`);
``kind = "ocds"`` reads Open Contracting Data Standard files (:mod:`naebu.connectors.ocds`). All map
and type rows with :func:`naebu.connectors.mapping.map_source` (columns, constants, value maps,
derived columns) and yield :class:`~naebu.connectors.base.Batch` objects; see :mod:`naebu.connectors.base`
for the contract with the run pipeline.
"""

from __future__ import annotations

from naebu.connectors.base import (
    Batch,
    Connector,
    FileTaken,
    QuarantinedRow,
    SourceError,
    SourceState,
)
from naebu.connectors.registry import check_source, connector_kinds, make_connector, register

# Imported for their side effect: the built-in kinds register themselves.
from naebu.connectors import files as files  # noqa: E402  isort: skip
from naebu.connectors import ocds as ocds  # noqa: E402  isort: skip
from naebu.connectors import sql as sql  # noqa: E402  isort: skip

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
