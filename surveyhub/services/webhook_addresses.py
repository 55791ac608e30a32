"""Where a webhook may be sent: the address check against server-side request forgery (SSRF).

A URL is resolved once; every address it resolves to must be public unless an admin allowed
their own network for the endpoint (which the operator must permit first: ``WEBHOOK_ALLOW_PRIVATE``),
and the sender connects to exactly the addresses checked here (``webhook_http``), so a second DNS
answer cannot point it elsewhere. Link-local addresses (the cloud metadata service at 169.254.169.254),
unspecified and multicast ones are refused even then.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from surveyhub.services.errors import N_, Invalid

MAX_URL = 2000
#: Characters a URL's path and query keep as they are (RFC 3986 pchar, with "%" for what is encoded already).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refused_address(address: str) -> bool:
    """Is this IP address one a webhook may not reach without ``allow_private``?

    Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata address,
    fe80::/10), unspecified, multicast, reserved, shared (CGNAT 100.64/10), and an IPv4-mapped or 6to4 /
    NAT64 form of any of those.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and refused_address(str(inner)):
            return True
        if ip in _ULA:
            return True
    elif ip in _CGNAT:
        return True
    return bool(ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified or ip.is_multicast
                or ip.is_reserved or not ip.is_global)


def never_allowed(address: str) -> bool:
    """Refused even on an allowed own network: link-local (cloud metadata), unspecified, multicast, in any
    IPv4-mapped, 6to4 or NAT64 form."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if inner is not None and never_allowed(str(inner)):
        return True
    return bool(ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 (64:ff9b::/96) address stands for, if any."""
    inner = ip.ipv4_mapped or ip.sixtofour
    if inner is None and ip in _NAT64:
        inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return inner


Resolver = Callable[[str, int], Iterable[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (one lookup; the sender connects to what it returned)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Invalid(N_("The address %(host)s could not be found."), host=host[:100]) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (the addresses checked) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check_url(url: str, *, allow_private: bool, resolve: Resolver = resolve_host,
              may_allow: bool = True) -> Target:
    """Check a webhook URL and resolve its host once; ``Invalid`` says why it is refused.

    ``resolve`` is replaceable so tests need no network; ``may_allow`` says whether an admin could allow
    their own network here (the operator's ``WEBHOOK_ALLOW_PRIVATE``), for the words of a refusal.
    """
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise Invalid(N_("Fill in the full web address, starting with https://."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid(N_("This is not a valid web address.")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(N_("Fill in the full web address, starting with https://."))
    if parts.username is not None or parts.password is not None:
        raise Invalid(N_("A web address with a user name or password in it is not allowed; the signature "
                         "shows the receiver the message is from SurveyHub."))
    if parts.scheme != "https" and not allow_private:
        if not may_allow:
            raise Invalid(N_("Use https://."))
        raise Invalid(N_("Use https:// (http:// is only allowed for an address on your own network, when you "
                         "allow that below)."))
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = list(resolve(host, port))
    if not addresses:
        raise Invalid(N_("The address %(host)s could not be found."), host=host[:100])
    for address in addresses:
        if never_allowed(address):
            raise Invalid(N_("%(host)s points to a link-local, unspecified or multicast address (%(address)s), "
                             "where SurveyHub never sends."), host=host[:100], address=address)
    if not allow_private:
        for address in addresses:
            if not refused_address(address):
                continue
            if not may_allow:
                raise Invalid(N_("%(host)s points to a private, local or reserved network address (%(address)s). "
                                 "This SurveyHub only sends to public addresses."), host=host[:100], address=address)
            raise Invalid(N_("%(host)s points to a private, local or reserved network address (%(address)s). "
                             "SurveyHub only sends there when an admin allows it below."), host=host[:100],
                          address=address)
    # Written as the HTTP client must send it: letters outside ASCII and spaces percent-encoded (it would
    # refuse them mid-send), what is already encoded kept as it is.
    path = quote(parts.path or "/", safe=_PATH_SAFE) + (f"?{quote(parts.query, safe=_PATH_SAFE + '?')}"
                                                         if parts.query else "")
    return Target(parts.scheme, host, port, path, tuple(addresses))
