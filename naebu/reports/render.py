"""Reports as files: HTML from the package's templates, PDF printed by headless Chromium.

The PDF is the HTML as Chromium prints it (``chromium --headless --print-to-pdf``): one
rendering for screen and paper, Hangul set in the system's Korean font (Debian
``fonts-nanum``), and no PDF library to install. The browser is ``$NAEBU_CHROMIUM``, else the
first of ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from naebu.reports.figures import link, records_text

TEMPLATES = Path(__file__).parent / "templates"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Seconds Chromium may take to print one report.
PRINT_TIMEOUT = 120


class PdfError(RuntimeError):
    """The PDF could not be printed: no browser, or the browser failed (one line)."""


def environment() -> Environment:
    """The Jinja2 environment of the report templates (HTML, autoescaped)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["j2", "html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(link=link, records_text=records_text)
    return env


def render_html(template: str, **context: Any) -> str:
    """``template`` (a file under templates/) rendered with ``context``."""
    return environment().get_template(template).render(**context)


def browser() -> str | None:
    """The browser that prints PDFs, or None when there is none."""
    given = os.environ.get("NAEBU_CHROMIUM")
    if given:
        return given
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: Path, pdf: Path) -> None:
    """Print the HTML file ``html`` to ``pdf`` (A4, no header or footer line).

    Raises :class:`PdfError` when no browser is found, it fails or it writes nothing.
    """
    exe = browser()
    if exe is None:
        raise PdfError(
            "no Chromium to print the PDF: apt-get install chromium fonts-nanum, or set "
            "NAEBU_CHROMIUM to a Chromium or Chrome executable"
        )
    pdf.unlink(missing_ok=True)
    # A profile of its own: a running browser's profile lock would make it hand the job over.
    with tempfile.TemporaryDirectory(prefix="naebu-pdf-") as profile:
        args = [
            exe,
            "--headless",
            "--no-sandbox",  # root in containers; the page is our own file
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=PRINT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"{exe} could not print {html.name}: {exc}") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"{exe} printed no PDF of {html.name} (exit {done.returncode}): {tail[0]}")
