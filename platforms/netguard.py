"""Where the platform may connect: the outbound address policy, checked when it connects.

A channel's settings name the hosts Engage talks to (a Mastodon instance, a partner's webhook,
an API base). Whoever can edit a channel could point it at the server's own network (a database,
the cloud's metadata service, an admin page on localhost) and make Engage fetch it. So every
outbound HTTP request goes through :class:`GuardedTransport` (``platforms.http``
builds every client with it), which:

* allows only ``https`` (plain ``http`` only to a host on the allowlist, or while private
  addresses are allowed);
* resolves the host **once**, when it connects, refuses the connection if *any* address it
  resolved to is loopback, private, link-local, unique-local, multicast, reserved, CGNAT,
  "this network" or a cloud metadata address (IPv4 and IPv6, IPv4-mapped and IPv4-embedding
  IPv6 forms included), and then connects to the address it verified, not to the name. TLS
  still uses the host name for SNI and the certificate check. A name that resolves to a public
  address when the channel is saved and to a private one later (DNS rebinding) is refused at
  the connection, because the check is made there and nothing resolves the name again;
* checks every request the same way, so a redirect (not followed by our clients anyway) to a
  private address is refused too.

Two settings open the policy, both explicit:

* ``ENGAGE_OUTBOUND_ALLOW_PRIVATE``: any address and plain http. On by default only outside
  production (the embedded demo posts to its local sandbox on 127.0.0.1:8025, and the tests to
  local servers); production refuses to start with it on unless
  ``ENGAGE_OUTBOUND_ALLOW_PRIVATE_ACKNOWLEDGED`` is set too.
* ``ENGAGE_OUTBOUND_ALLOWED_HOSTS``: ``host`` or ``host:port`` entries (an on-premises SMS
  gateway, say) that may resolve to private addresses and use plain http.

Environment proxies (``HTTPS_PROXY``) are ignored: a proxy connects on our behalf, past the check.
A deployment whose egress goes through a proxy names it in ``ENGAGE_OUTBOUND_PROXY``; the name is
then checked before each request, and the proxy should refuse private destinations as well.

:func:`check_url` applies the same policy when a channel is saved, so a bad URL is a 400 then
rather than a failing channel later.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Everything that is not a public unicast address on the internet. ``is_global`` covers most of
# it, but its lists differ between Python versions and leave out multicast: name them all.
_FORBIDDEN_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    # IPv4
    "0.0.0.0/8",  # "this network" (0.0.0.0 reaches the local host on Linux)
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "100.64.0.0/10",  # carrier-grade NAT (and Alibaba Cloud's metadata service, 100.100.100.200)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (AWS, GCP, Azure, OpenStack metadata: 169.254.169.254)
    "192.0.0.0/24", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # IETF, documentation
    "192.88.99.0/24",  # 6to4 relay anycast
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4", "255.255.255.255/32",  # reserved, broadcast
    # IPv6
    "::/128", "::1/128",  # unspecified, loopback
    "::ffff:0:0/96", "::/96",  # IPv4-mapped, IPv4-compatible (checked by their IPv4 part too)
    "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
    "100::/64",  # discard
    "2001::/23",  # IETF protocol assignments (Teredo 2001::/32 included)
    "2001:db8::/32",  # documentation
    "fc00::/7",  # unique local (AWS's IPv6 metadata service is fd00:ec2::254)
    "fe80::/10", "fec0::/10",  # link-local, site-local
    "ff00::/8",  # multicast
))

# Names that mean "this machine" or "the cloud's metadata service" whatever DNS says.
_FORBIDDEN_NAMES = frozenset({
    "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
})
_FORBIDDEN_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")


class DestinationRefused(httpx.TransportError):  # noqa: N818 - reads as what happened
    """The policy refused this destination. Raised before any byte is sent to it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in ipaddress.ip_network("64:ff9b::/96") or ip in ipaddress.ip_network("::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(ip: IPAddress) -> bool:
    """A public unicast address: not loopback, private, link-local, metadata, reserved, ..."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False  # a zone index only makes sense for link-local addresses
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not address_is_public(embedded):
            return False
    if any(ip in net for net in _FORBIDDEN_NETWORKS if net.version == ip.version):
        return False
    return bool(ip.is_global) and not ip.is_multicast and not ip.is_reserved


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _setting_allows_private() -> bool:
    return bool(getattr(settings, "ENGAGE_OUTBOUND_ALLOW_PRIVATE", False))


def _allowlisted(host: str, port: int | None) -> bool:
    """Whether ``ENGAGE_OUTBOUND_ALLOWED_HOSTS`` names this host (any port) or this host and port."""
    host = _normal_host(host)
    for entry in getattr(settings, "ENGAGE_OUTBOUND_ALLOWED_HOSTS", ()) or ():
        entry = str(entry).strip().lower()
        if not entry:
            continue
        if entry.startswith("["):  # [::1]:8025
            name, _, rest = entry[1:].partition("]")
            entry_port = rest.removeprefix(":")
        elif entry.count(":") == 1:
            name, _, entry_port = entry.partition(":")
        else:
            name, entry_port = entry, ""
        if _normal_host(name) != host:
            continue
        if not entry_port or (port is not None and entry_port == str(port)):
            return True
    return False


def private_allowed(host: str, port: int | None) -> bool:
    """Whether this destination may be private (and plain http): the setting, or the allowlist."""
    return _setting_allows_private() or _allowlisted(host, port)


def _check_name(host: str) -> None:
    name = _normal_host(host)
    if not name:
        raise DestinationRefused("the address has no host")
    if name in _FORBIDDEN_NAMES or name.endswith(_FORBIDDEN_SUFFIXES):
        raise DestinationRefused(f"{name} is a local or internal host name")


def resolve_public(host: str, port: int) -> list[tuple[int, int, int, tuple[typing.Any, ...]]]:
    """Resolve ``host`` once; every address must be public, or the whole name is refused.

    Returns ``getaddrinfo``'s (family, type, proto, sockaddr) tuples for the caller to connect to.
    Any spelling of an IP address (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::1]``)
    goes through the resolver too, so it is judged by the address it really means.
    """
    _check_name(host)
    try:
        infos = socket.getaddrinfo(_normal_host(host), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpx.ConnectError(f"could not resolve {host} ({type(exc).__name__})") from None
    found = []
    for family, socktype, proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise DestinationRefused(f"{host} resolves to an address that is not IP")
        try:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError:
            raise DestinationRefused(f"{host} resolves to an unreadable address") from None
        if isinstance(ip, ipaddress.IPv6Address) and len(sockaddr) >= 4 and sockaddr[3]:
            ip = ipaddress.IPv6Address(f"{ip}%{sockaddr[3]}")
        if not address_is_public(ip):
            raise DestinationRefused(
                f"{host} resolves to a private, local or reserved address; Engage does not connect there")
        found.append((family, socktype, proto, sockaddr))
    if not found:
        raise httpx.ConnectError(f"could not resolve {host}")
    return found


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, resolving and checking the host itself before it connects."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        if private_allowed(host, port):
            return super().connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                       socket_options=socket_options)
        last_error: Exception | None = None
        for _family, _type, _proto, sockaddr in resolve_public(host, port):
            try:
                # The verified address itself, as a literal: nothing resolves the name again.
                return super().connect_tcp(str(sockaddr[0]), port, timeout=timeout,
                                           local_address=local_address, socket_options=socket_options)
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                last_error = exc
        raise httpcore.ConnectError(f"could not connect to {host}: {last_error}")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the address policy: scheme and name per request, addresses per
    connection (:class:`GuardedBackend`).

    httpx (0.28, 0.29) takes no network backend of its own (encode/httpx discussion #3180, pull
    request #3749), but its connection pool, httpcore's ``ConnectionPool``, does: the transport
    builds the pool itself, with the same options httpx would give it, and environment proxies
    are never used (a proxy would connect on our behalf, past the check).
    """

    def __init__(self, *, verify: ssl.SSLContext, limits: httpx.Limits | None = None, proxy: str = "") -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, trust_env=False, limits=limits, proxy=proxy or None)
        self._proxied = bool(proxy)
        if not proxy:
            self._pool = httpcore.ConnectionPool(
                ssl_context=verify,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=GuardedBackend(),
            )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        check_request_url(url.scheme, url.host, url.port)
        if self._proxied and not private_allowed(url.host, url.port):
            # Through an egress proxy (``ENGAGE_OUTBOUND_PROXY``) the proxy connects, so the name is
            # checked here, before the request; the proxy resolves it again and should refuse
            # private destinations itself too.
            resolve_public(url.host, url.port or (443 if url.scheme == "https" else 80))
        return super().handle_request(request)


def check_request_url(scheme: str, host: str, port: int | None) -> None:
    """The per-request part of the policy: the scheme and the host name (addresses come later)."""
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise DestinationRefused(f"{scheme or 'this'} URLs are not allowed; use https")
    if private_allowed(host, port):
        return
    if scheme != "https":
        raise DestinationRefused("only https URLs are allowed")
    _check_name(host)


def check_url(url: str, *, resolve: bool = True) -> None:
    """Check a URL from a channel's settings against the policy, as :class:`GuardedTransport`
    will when it connects; raises :class:`DestinationRefused` with a sentence for the user.

    ``resolve``: look the host up now too (a name that does not resolve passes here: the
    connection is checked again when it is made).
    """
    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
    except ValueError:
        raise DestinationRefused("this is not a valid URL") from None
    host = parts.hostname or ""
    if parts.username or parts.password:
        raise DestinationRefused("a URL may not carry a user name or password; use the secret fields")
    check_request_url(parts.scheme, host, port)
    if not host:
        raise DestinationRefused("the address has no host")
    if private_allowed(host, port) or not resolve:
        return
    try:
        resolve_public(host, port or (443 if parts.scheme.lower() == "https" else 80))
    except httpx.ConnectError:
        return  # does not resolve (yet): the connection will be checked when it is made
