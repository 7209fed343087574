"""The visitor's address behind a reverse proxy, and counters in the shared cache.

X-Forwarded-For can be typed by anyone; it is believed only when the direct peer (REMOTE_ADDR) is
one of TRUSTED_PROXIES, and then only the hops added by trusted proxies are skipped. The lock-out
(django-axes, AXES_CLIENT_IP_CALLABLE), the intake rate limit and the password-reset throttle all
use this one answer.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.core.cache import cache as shared_cache


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    # "[2001:db8::1]:443" and "192.0.2.1:443" as some proxies write them.
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_address(request) -> str | None:
    """The address of the visitor: REMOTE_ADDR, unless that is a trusted proxy; then the
    right-most address in X-Forwarded-For that is not itself a trusted proxy. None when the
    request has no peer address at all (a request made up in code)."""
    peer = _address(request.META.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return None
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    # Each proxy appends the address it received the request from: read from the right, skip our
    # own proxies, and stop at the first address we do not run.
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            # Garbage written by the client itself: the proxy before it is the last we know.
            break
        if not _trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)


def rate_count(scope: str, key: str, *, window: int) -> int:
    """Count one attempt for (scope, key) in the shared cache and return the attempts counted in
    the window (which starts at the first of them). The one counter of every rate limit: the
    login pages, the intake forms, the portal's links and the API. With several web processes
    the cache must be shared (CACHE_URL), or each process counts on its own."""
    cache_key = f"rate:{scope}:{key}"
    shared_cache.add(cache_key, 0, timeout=window)
    try:
        return shared_cache.incr(cache_key)
    except ValueError:
        # The entry expired between add and incr.
        shared_cache.set(cache_key, 1, timeout=window)
        return 1


def rate_limit_hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for (scope, key); True when this one is over the limit within the window."""
    return rate_count(scope, key, window=window) > limit
