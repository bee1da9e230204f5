"""File formats nesykg reads and writes, and reading a file's bytes with clear errors."""

from __future__ import annotations

import codecs
import io
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nesykg.errors import InputError, ParseError

__all__ = ["FORMATS", "ProgressFn", "CountingReader", "detect_format", "read_bytes", "decode_text"]

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
    if Path(path).is_dir():  # before the extension: "data/" has none, "umls.tsv/" a misleading one
        raise InputError(f"{path}: is a directory, not a file")
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
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path}: is a directory, not a file")
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):  # /dev/zero would be read for ever
            raise InputError(f"{path}: is a device, not a file")
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


_UTF16_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_text(path: str | Path, data: bytes) -> str:
    """`data` decoded as UTF-8 (a leading UTF-8 byte-order mark dropped).

    Raises:
        ParseError: not UTF-8, naming the line of the first bad byte; UTF-16 and UTF-32
            text (a byte-order mark) are named as such, with what to do.
    """
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        bom = next((b for b in _UTF16_BOMS if data.startswith(b)), None)
        if bom is not None:
            kind = "UTF-32" if len(bom) == 4 else "UTF-16"
            reason = f"{kind} text (byte-order mark {bom.hex(' ')}); nesykg reads UTF-8: convert the file to UTF-8"
            raise ParseError(path, 1, reason) from None
        line = data[: e.start].count(b"\n") + 1
        reason = f"not UTF-8 text (byte {data[e.start]:#04x}): binary, or another encoding?"
        raise ParseError(path, line, reason) from None


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
