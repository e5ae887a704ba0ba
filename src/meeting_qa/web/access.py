"""Who may reach the web chat: loopback by default, a login before anything else (no heavy imports here)."""

from __future__ import annotations

import ipaddress

from meeting_qa.errors import ConfigError


def check_bind(host: str, auth: str | None, insecure: bool) -> tuple[str, str] | None:
    """The (user, password) to require, or None; refuses an open non-loopback address."""
    credentials: tuple[str, str] | None = None
    if auth:
        user, sep, password = auth.partition(":")
        if not sep or not user or not password:
            raise ConfigError("--auth / MEETING_QA_AUTH must look like user:password", value="(hidden)")
        credentials = (user, password)
    if credentials is None and not insecure and not _is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without a login: anyone on the network could read the meeting "
            "records. Add --auth user:password (or MEETING_QA_AUTH), or pass --insecure if this network is trusted.",
            value=host,
        )
    return credentials


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything
