"""The long-running ``naebu run``: leader lock, scheduled jobs, hot reload, health and metrics.

One module per concern: :mod:`~naebu.daemon.leader` (one active scheduler per store),
:mod:`~naebu.daemon.service` (the jobs, source back-off, graceful shutdown),
:mod:`~naebu.daemon.rules` (hot reload keeping the last good rule),
:mod:`~naebu.alerts.admin_notices` (admin notices through the outbox),
:mod:`~naebu.daemon.status` (``naebu status``), :mod:`~naebu.daemon.http` (``/healthz``,
``/metrics``) and :mod:`~naebu.daemon.logs` (text or JSON logs). The job list itself is in
:mod:`naebu.daemon.scheduler`.
"""
