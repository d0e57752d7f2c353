"""The connector registry: kind name -> connector class.

Built-in kinds register with the same :func:`register` decorator a plug-in would use, so a
plug-in is any module that defines a :class:`~naebu.connectors.base.Connector` subclass decorated with
``@connectors.register`` and is imported before the configuration is checked.
"""

from __future__ import annotations

from naebu.connectors.base import Connector, SourceError
from naebu.connectors.source_settings import SourceConfig
from naebu.core.problems import Problem, did_you_mean

_KINDS: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make ``cls`` the connector of ``kind = cls.kind``.

    A second class for the same kind is refused with ValueError (two plug-ins fighting over
    a name must fail at start-up, not silently replace one another).
    """
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"connector class {cls.__qualname__} has no kind")
    existing = _KINDS.get(kind)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"connector kind {kind!r} is already registered by "
            f"{existing.__module__}.{existing.__qualname__}; "
            f"{cls.__module__}.{cls.__qualname__} cannot take it too"
        )
    _KINDS[kind] = cls
    return cls


def connector_kinds() -> dict[str, type[Connector]]:
    """Registered kinds (a copy): kind name -> connector class."""
    return dict(_KINDS)


def make_connector(source: SourceConfig) -> Connector:
    """The connector for ``source``; :class:`SourceError` when its kind is unknown."""
    cls = _KINDS.get(source.kind)
    if cls is None:
        raise SourceError(source.name, f"unknown kind {source.kind!r}", _kind_hint(source.kind))
    return cls(source)


def check_source(source: SourceConfig, file: str) -> list[Problem]:
    """Every problem of ``source``'s kind and options, found without I/O."""
    cls = _KINDS.get(source.kind)
    if cls is None:
        return [
            Problem(
                file,
                f"unknown kind {source.kind!r}",
                key=f"sources.{source.name}.kind",
                hint=_kind_hint(source.kind),
            )
        ]
    return cls.check(source, file)


def _kind_hint(kind: str) -> str:
    return did_you_mean(kind, _KINDS) or "kinds: " + ", ".join(sorted(_KINDS))
