"""`naebu serve`: the web inbox (경보함) for officials and the audit office.

Binds 127.0.0.1 by default: put a reverse proxy with TLS in front to reach it from other
machines (docs/web.md). The settings are the ``[web]`` table of the config (see
:mod:`naebu.settings.web`). Exit codes: 0 stopped cleanly; 1 the config or its ``[web]`` has a
problem, or the store cannot be opened.
"""

from __future__ import annotations

from pathlib import Path

import click

from naebu.commands.common import UserError, safe_url, with_config
from naebu.core.problems import ProblemsError
from naebu.settings.config import Config
from naebu.store import tables as store


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8080, show_default=True, type=int, help="port to listen on")
@click.option(
    "--web-config",
    "web_config",
    type=click.Path(dir_okay=False),
    help="a file with the [web] settings (default: [web] of the config; else web.toml beside it)",
)
@with_config
def serve(config: Config, host: str, port: int, web_config: str | None) -> None:
    """Serve the web inbox: alerts, the department scorecard, the rule catalog."""
    import uvicorn

    from naebu.inbox.app import create_app
    from naebu.settings.web import settings_for_config

    try:
        settings = settings_for_config(config, Path(web_config) if web_config else None)
    except ProblemsError as exc:
        raise UserError(exc.problems) from None
    try:
        engine = store.connect(config.store_url)
    except Exception as exc:  # a store that cannot be opened is one line, not a traceback
        raise UserError(
            f"naebu serve: cannot open the store {safe_url(config.store_url)}: {exc}"
        ) from None
    app = create_app(config, engine, settings)
    click.echo(f"naebu inbox on http://{host}:{port}/ (store {safe_url(config.store_url)})")
    try:
        # uvicorn's own proxy-header handling stays off: the inbox decides which proxies to
        # believe ([web] trusted_proxies, client_address_header).
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
    finally:
        engine.dispose()
