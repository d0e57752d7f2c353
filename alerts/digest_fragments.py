"""``{% once cache, name, key %}...{% endonce %}``: a part of a template rendered once per key.

A province's alert is written out in the digests of its official, their managers and every
auditor (2.35 times on average, in a text and an HTML part each): the lines of an item that
do not depend on the recipient (the record, the finding, the evidence, the member records)
are rendered the first time and reused after, keyed by ``name`` and ``key`` (the alert id)
in ``cache``, a dict the caller passes for the run (``fragments`` in a digest's context).
With ``cache`` None the body is simply rendered. Whitespace is as without the tags (they stand
on lines of their own, which ``trim_blocks`` and ``lstrip_blocks`` remove).

The body must not depend on anything but ``key`` and values fixed for the whole ``cache``:
whoever edits a digest template keeps the recipient's own lines (``a["mine"]``,
``a["role"]``) outside ``once`` blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser


class OnceExtension(Extension):
    """The ``once`` tag (see the module docstring)."""

    tags = {"once"}

    def parse(self, parser: Parser) -> nodes.Node:
        """``once cache, name, key`` ... ``endonce``."""
        lineno = next(parser.stream).lineno
        cache = parser.parse_expression()
        parser.stream.expect("comma")
        name = parser.parse_expression()
        parser.stream.expect("comma")
        key = parser.parse_expression()
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        call = self.call_method("_render_once", [cache, name, key])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render_once(
        self,
        cache: dict[tuple[Hashable, Hashable], Any] | None,
        name: Hashable,
        key: Hashable,
        caller: Callable[[], Any],
    ) -> Any:
        if cache is None:
            return caller()
        found = cache.get((name, key))
        if found is None:
            found = cache[(name, key)] = caller()
        return found
