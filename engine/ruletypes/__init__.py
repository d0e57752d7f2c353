"""The built-in rule types; importing this package registers them."""

# One import per line, so each rule type adds its own line.
# ruff: noqa: I001, F401
from naebu.engine.ruletypes import match
from naebu.engine.ruletypes import sequence
from naebu.engine.ruletypes import aggregate
from naebu.engine.ruletypes import duplicate
from naebu.engine.ruletypes import outlier
