"""How dropped files are found, recognised and decoded: the files of a drop folder in name
order, their checksum (a file is taken once, whatever its name) and their text encoding (a
byte-order mark, else UTF-8, else CP949), both read in 1 MiB blocks so that a file is never
held whole."""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from pathlib import Path

_BLOCK = 1 << 20


def drop_files(folder: Path, pattern: str | list[str]) -> Iterator[tuple[Path, str]]:
    """The files matching ``pattern`` (one glob or several) in ``folder``, each once, in the
    order of their names relative to it, with those names."""
    found: set[Path] = set()
    for glob in pattern if isinstance(pattern, list) else [pattern]:
        found.update(p for p in folder.glob(glob) if p.is_file())
    for path in sorted(found, key=lambda p: p.relative_to(folder).as_posix()):
        yield path, path.relative_to(folder).as_posix()


def checksum(path: Path) -> str:
    """The file's sha256: a file is taken once, whatever its name."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def decoding(path: Path, encoding: str) -> tuple[str | None, str | None]:
    """How to read a text file: (encoding, None), or (None, why it cannot be decoded).

    ``auto`` picks a byte-order mark, else UTF-8 if the whole file decodes, else CP949 (a
    second pass, only for non-UTF-8 files). Streaming: a file is never held whole.
    """
    if encoding == "auto":
        with path.open("rb") as fh:
            head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
    candidate = "utf-8" if encoding == "auto" else encoding
    error = _decode_error(path, candidate)
    if error is None:
        return candidate, None
    if encoding == "auto":
        second = _decode_error(path, "cp949")
        if second is None:
            return "cp949", None
        error += f"; {second}"
    return None, f"cannot decode the file ({error})"


def _decode_error(path: Path, encoding: str) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as fh:
        try:
            for block in iter(lambda: fh.read(_BLOCK), b""):
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return f"{encoding}: {exc.reason} at byte {offset + exc.start}"
    return None
