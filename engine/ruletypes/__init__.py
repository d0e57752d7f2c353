"""The built-in rule types; importing this package registers them."""

# One import per line, so each rule type adds its own line.
# ruff: noqa: I001, F401
from engine.ruletypes import match
from engine.ruletypes import sequence
from engine.ruletypes import aggregate
from engine.ruletypes import duplicate
from engine.ruletypes import outlier
