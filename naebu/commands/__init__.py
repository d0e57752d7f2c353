"""The commands of the ``naebu`` CLI, one module each; :mod:`naebu.cli` registers them."""
