"""Who may reach the web chat: loopback by default, a login before anything else (no heavy imports here)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable

from meeting_qa.errors import ConfigError

MAX_FAILURES = 5  # wrong passwords for one user name within WINDOW_S before its logins are refused
WINDOW_S = 60.0
FAILURE_DELAY_S = 0.5  # every wrong password also costs its sender this long


def check_bind(host: str, auth: str | None, insecure: bool, *, tls: bool = False) -> tuple[str, str] | None:
    """The (user, password) to require, or None; refuses a non-loopback address without a login or without
    TLS (`insecure`: the network is trusted, or a TLS proxy in front of the chat terminates HTTPS)."""
    credentials: tuple[str, str] | None = None
    if auth:
        user, sep, password = auth.partition(":")
        if not sep or not user or not password:
            raise ConfigError("--auth / MEETING_QA_AUTH must look like user:password", value="(hidden)")
        credentials = (user, password)
    if insecure or _is_loopback(host):
        return credentials
    if credentials is None:
        raise ConfigError(
            f"refusing to serve on {host} without a login: anyone on the network could read the meeting "
            "records. Add --auth user:password (or MEETING_QA_AUTH), or pass --insecure if this network is trusted.",
            value=host,
        )
    if not tls:
        raise ConfigError(
            f"refusing to serve on {host} over plain HTTP: the password and the meeting records would cross the "
            "network readable by anyone on it. Add --ssl-keyfile KEY --ssl-certfile CERT, or pass --insecure when "
            "a TLS proxy in front of the chat (or a trusted network) protects it.",
            value=host,
        )
    return credentials


def login_checker(
    credentials: tuple[str, str],
    *,
    max_failures: int = MAX_FAILURES,
    window_s: float = WINDOW_S,
    delay_s: float = FAILURE_DELAY_S,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's `auth` callable: the password compared in constant time, and failed logins throttled.

    After `max_failures` wrong passwords for the user name within `window_s`, every login as that name is
    refused (the right password too) until the oldest failure leaves the window: guessing is held to
    a few passwords a minute. The price, a real user locked out for a minute by someone guessing, is the
    usual one. An async function (not an object with `__call__`): gradio awaits only coroutine functions.
    """
    user, password = credentials
    failures: list[float] = []  # only the one real user name can log in, so only its guesses need counting

    async def check(username: str, attempt: str) -> bool:
        now = clock()
        failures[:] = [t for t in failures if now - t < window_s]
        if username == user and len(failures) < max_failures:
            if hmac.compare_digest(attempt.encode(), password.encode()):
                failures.clear()
                return True
            failures.append(now)
        await asyncio.sleep(delay_s)
        return False

    return check


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything
