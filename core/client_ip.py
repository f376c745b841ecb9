"""Who sent this request: the one ``client_ip`` every rate limit, lock-out and audit row uses,
and the request's address kept for the audit trail (``current_ip``)."""

from __future__ import annotations

import contextvars
import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

_current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("engage_request_ip", default=None)


def current_ip() -> str | None:
    return _current_ip.get()


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_proxy_networks() -> tuple[IpNetwork, ...]:
    """``ENGAGE_TRUSTED_PROXIES`` as networks (settings refuse bad entries at start-up)."""
    return _networks(tuple(getattr(settings, "ENGAGE_TRUSTED_PROXIES", ()) or ()))


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # "[2001:db8::1]:443"
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[IpNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The address of whoever sent this request: the one function every rate limit, lock-out and
    audit row uses.

    ``REMOTE_ADDR``, unless it is one of ``ENGAGE_TRUSTED_PROXIES``: then ``X-Forwarded-For`` is
    read from the right (each proxy appends the address it received the request from) and the
    first address that is not itself a trusted proxy is the client. Everything left of it was
    written by the client and is never believed. With no trusted proxies (the default) the
    header is ignored entirely. Neither gunicorn nor uWSGI rewrite ``REMOTE_ADDR`` from it.
    """
    meta = getattr(request, "META", None) or {}
    remote = _parse_ip(str(meta.get("REMOTE_ADDR") or ""))
    if remote is None:
        return None
    networks = trusted_proxy_networks()
    if not networks or not _trusted(remote, networks):
        return str(remote)
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")  # repeated headers arrive comma-joined
    client = remote
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _parse_ip(hop)
        if address is None:
            # Not an address: a trusted proxy would not have written it, so the chain ends at the
            # last hop we could vouch for.
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def remember_ip(request: HttpRequest) -> contextvars.Token:
    """Keep this request's client address for the audit trail until :func:`forget_ip`."""
    return _current_ip.set(client_ip(request))


def forget_ip(token: contextvars.Token) -> None:
    _current_ip.reset(token)
