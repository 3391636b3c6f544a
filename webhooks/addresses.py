"""Which receivers may be called: with ``WEBHOOK_ALLOW_PRIVATE`` off (the default outside
DEBUG), a URL whose host is or resolves to a loopback, private, link-local, multicast, reserved
or unspecified address is refused, so that an endpoint cannot be pointed at the server's own
network (SSRF). Checked when staff save the endpoint and again before every attempt (a name may
resolve elsewhere later)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class RefusedAddress(ValueError):
    """The URL's host is, or resolves to, an address receivers may not have."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Raise ``RefusedAddress`` unless the URL is http(s) and, with ``WEBHOOK_ALLOW_PRIVATE``
    off, every address its host resolves to is public. Resolves the name (DNS)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RefusedAddress("the URL must be http:// or https:// with a host")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"the host {parts.hostname} does not resolve") from exc
    refused = sorted({str(info[4][0]) for info in infos if not _public(str(info[4][0]))})
    if refused:
        raise RefusedAddress(
            f"{parts.hostname} is a private or loopback address ({', '.join(refused)}); "
            "set WEBHOOK_ALLOW_PRIVATE to allow it"
        )
