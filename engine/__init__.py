"""The rule engine: rule files are loaded, checked and compiled here, then evaluated into findings."""
