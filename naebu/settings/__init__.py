"""The root of the settings: config.toml read into one :class:`~naebu.settings.config.Config`.

Each floor owns the model of its own sections (``[sources.NAME]`` in
:mod:`naebu.connectors.source_settings`, ``[engine]`` in :mod:`naebu.engine.settings`,
``[notify]`` in :mod:`naebu.alerts.notify_settings`, ...); this package composes them and holds
the sections of the floors above the alerts (``[daemon]``, ``[web]``, ``[onboarding]``).
"""
