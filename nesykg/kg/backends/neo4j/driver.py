"""Connecting to Neo4j: credentials, the driver, and one translation of driver errors
into nesykg errors (address, user and action named in one line)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from nesykg.errors import (
    AuthenticationError,
    InputError,
    QueryTimeoutError,
    StoreError,
    StoreUnavailableError,
)


def split_credentials(uri: str) -> tuple[str, str | None, str | None]:
    """``neo4j://user:pass@host:7687`` -> (``neo4j://host:7687``, user, password)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri, None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user = unquote(parts.username) if parts.username is not None else None
    pw = unquote(parts.password) if parts.password is not None else None
    return clean, user, pw


class _Unretryable(Exception):
    """A server error that retrying cannot fix, raised from inside a transaction function
    so that the driver gives up at once (see `no_futile_retries`)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


_FUTILE_CODES = ("MemoryPoolOutOfMemoryError",)
"""Neo4j 5 calls running out of transaction memory a *transient* error, so the driver
would retry the same too-large transaction for its whole retry time (30 s by default)
before the error reached the user; it fails the same way every time."""


def no_futile_retries(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a managed-transaction function so that errors retrying cannot fix end the
    transaction at once (the driver retries only its own exception types)."""

    @functools.wraps(fn)  # keeps unit_of_work's timeout and metadata
    def wrapped(tx: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(tx, *args, **kwargs)
        except Exception as e:
            if any(c in (getattr(e, "code", None) or "") for c in _FUTILE_CODES):
                raise _Unretryable(e) from e
            raise

    return wrapped


def neo4j_errors(uri: str, user: str | None, action: str) -> Callable[[BaseException], BaseException]:
    """A translator from driver exceptions to nesykg `StoreError` subclasses."""
    import neo4j.exceptions as nx

    def translate(e: BaseException) -> BaseException:
        if isinstance(e, _Unretryable):
            e = e.error
        code = getattr(e, "code", None) or ""
        if isinstance(e, nx.AuthError) or "Security.Unauthorized" in code:
            return AuthenticationError(
                f"Neo4j at {uri} refused user {user!r}: wrong user name or password"
                " (set NESYKG_NEO4J_USER / NESYKG_NEO4J_PASSWORD or neo4j://USER:PASSWORD@HOST:PORT)"
            )
        if "MemoryPoolOutOfMemoryError" in code:
            return StoreError(
                f"{action} on Neo4j at {uri} was rolled back: the transaction needs more memory than the"
                " server allows (dbms.memory.transaction.total.max); split the work into smaller"
                " transactions (for writes: smaller change sets; nesykg kg load/copy: --batch N)"
                " or give the server more heap"
            )
        if "TransactionTimedOut" in code:
            return QueryTimeoutError(f"{action} on Neo4j at {uri} timed out and was rolled back")
        if isinstance(e, (nx.ServiceUnavailable, nx.SessionExpired, OSError)):
            return StoreUnavailableError(f"cannot reach Neo4j at {uri} ({action}): {_first_line(e)}")
        if isinstance(e, nx.ConfigurationError):
            return StoreError(f"bad Neo4j configuration for {uri}: {_first_line(e)}")
        if isinstance(e, nx.Neo4jError):
            return StoreError(f"{action} on Neo4j at {uri} failed: {getattr(e, 'message', None) or _first_line(e)}")
        if isinstance(e, nx.DriverError):
            return StoreError(f"{action} on Neo4j at {uri} failed: {_first_line(e)}")
        return e

    return translate


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def make_driver(uri: str, user: str | None = None, password: str | None = None, **config: Any) -> tuple[Any, str, str]:
    """Open and verify a driver. Returns ``(driver, clean_uri, user)``.

    Credentials: arguments, else those in the URI, else ``$NESYKG_NEO4J_USER`` /
    ``$NESYKG_NEO4J_PASSWORD`` (user ``neo4j`` by default).
    """
    import neo4j

    try:
        clean, u, p = split_credentials(uri)
    except ValueError as e:
        raise InputError(f"invalid Neo4j URI {uri!r}: {e}") from None
    user = user or u or os.environ.get("NESYKG_NEO4J_USER") or "neo4j"
    password = password if password is not None else (p if p is not None else os.environ.get("NESYKG_NEO4J_PASSWORD", ""))
    config.setdefault("notifications_min_severity", "OFF")
    config.setdefault("connection_timeout", 10.0)
    translate = neo4j_errors(clean, user, "connect")
    try:
        driver = neo4j.GraphDatabase.driver(clean, auth=(user, password), **config)
    except (ValueError, TypeError, neo4j.exceptions.ConfigurationError) as e:
        raise InputError(f"cannot open a Neo4j driver for {clean!r}: {_first_line(e)}") from None
    try:
        driver.verify_connectivity()
    except Exception as e:  # noqa: BLE001 - translated below
        driver.close()
        err = translate(e)
        if err is e:
            raise
        raise err from None
    return driver, clean, user


