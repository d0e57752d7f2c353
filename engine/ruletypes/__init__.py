"""The built-in rule types; importing this package registers them."""

from engine.ruletypes import match  # noqa: F401
from engine.ruletypes import sequence  # noqa: F401
