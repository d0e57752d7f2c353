"""naebu (내부통제): a rules-based internal-control alerting engine for Korean local governments.

The data flow follows the folders: ``connectors/`` pull and coerce source records into canonical
datasets, ``engine/`` loads rule files and evaluates them into findings, ``alerts/`` stores,
routes and notifies. This package holds the shell around them: configuration, the store schema,
the run pipeline, the demo city and the command line.
"""

__version__ = "0.1.0"
