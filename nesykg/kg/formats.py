"""File formats nesykg reads and writes, and reading a file's bytes with clear errors."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nesykg.errors import InputError

__all__ = ["FORMATS", "ProgressFn", "CountingReader", "detect_format", "read_bytes"]

# name -> (file extensions, pyoxigraph RdfFormat attribute or None for delimited text)
FORMATS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "turtle": ((".ttl", ".turtle"), "TURTLE"),
    "ntriples": ((".nt",), "N_TRIPLES"),
    "nquads": ((".nq",), "N_QUADS"),
    "trig": ((".trig",), "TRIG"),
    "n3": ((".n3",), "N3"),
    "rdfxml": ((".rdf", ".owl", ".xml"), "RDF_XML"),
    "jsonld": ((".jsonld", ".json"), "JSON_LD"),
    "tsv": ((".tsv", ".txt"), None),
    "csv": ((".csv",), None),
}
_ALIASES = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "xml": "rdfxml", "rdf": "rdfxml",
            "json-ld": "jsonld", "rdf/xml": "rdfxml", "n-triples": "ntriples", "n-quads": "nquads"}
ProgressFn = Callable[[int], None]
"""Called with the number of bytes read since the last call."""


def detect_format(path: str | Path, format: str | None = None) -> str:
    """The format name for `path`: `format` if given (aliases allowed), else by extension."""
    if format is not None:
        name = _ALIASES.get(format.lower(), format.lower())
        if name not in FORMATS:
            raise InputError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
        return name
    suffix = Path(path).suffix.lower()
    for name, (exts, _) in FORMATS.items():
        if suffix in exts:
            return name
    raise InputError(
        f"{path}: unknown format for extension {suffix or '(none)'!r}; pass one of "
        f"{', '.join(FORMATS)} (e.g. --format turtle)"
    )


def read_bytes(path: Path, probe: bool = False) -> bytes:
    """The file's bytes (with `probe`, only its first KB: to check it can be read)."""
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a file")
        if probe:
            with open(path, "rb") as f:
                data = f.read(1024)
            return data
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read the file: {e.strerror or e}") from None
    if not data.strip():
        raise InputError(f"{path}: the file is empty")
    return data


class CountingReader(io.RawIOBase):
    """Reads `data`, reporting bytes to `progress` every ~1 MB."""

    def __init__(self, data: bytes, progress: ProgressFn | None):
        self._buf = io.BytesIO(data)
        self._progress = progress
        self._pending = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._buf.readinto(b)
        if self._progress is not None:
            self._pending += n
            if self._pending >= 1 << 20 or n == 0:
                self._progress(self._pending)
                self._pending = 0
        return n
