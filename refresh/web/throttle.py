"""Who the client is behind proxies, and a bounded, expiring count of failed attempts.

Used by the admin's login (apps/admin/login.py): failures are counted per (username,
client) and per client, so a stranger cannot lock anyone else out, a block ends when the
window has passed, and the table never holds more than `max_keys` entries. An IPv6
client is counted by its /64 (`client_key`): a host picks any address in its network's
/64, so a per-address count would never block it.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(proxies: Sequence[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address: the connection's peer, unless the peer is a trusted proxy;
    then the nearest address in X-Forwarded-For that is not a trusted proxy (a client can
    prepend anything to the header, so it is read from the right)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded += [a.strip() for a in value.decode("latin-1").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _trusted(address, trusted):
            return address
    return forwarded[0] if forwarded else peer


#: The prefix an IPv6 client is counted by: one network (a LAN) is a /64. A subscriber
#: may hold many (RFC 6177 suggests a /56 or a /48 per site), so it has many identities
#: still, each one limited; a larger prefix would let a stranger on a shared one (a
#: campus, a host) lock its neighbours out.
IPV6_CLIENT_PREFIX = 64


def client_key(address: str) -> str:
    """What failures are counted by for a client address: an IPv4 address itself
    (written in IPv6 as ::ffff:a.b.c.d too), an IPv6 address's /64, anything that is no
    address as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


class FailureThrottle:
    """Failed attempts per key within a sliding window; a key with `limit` failures in
    the window is refused until the oldest of them expires. Memory: at most `max_keys`
    keys, `limit` timestamps each; at most half of them blocked.

    When a new key would pass `max_keys`, the least recently failing key that is not
    blocked is forgotten, never a block: otherwise failing from fresh clients would lift
    any block. And blocks take at most half the table (the least recently failing goes
    first, after those that have ended): otherwise a table full of blocks would leave
    one place to count in, and two clients failing in turn would push each other out
    forever, never blocked."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys < 2:
            raise ValueError("max_keys: at least 2, half of them for blocks")
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self.max_blocked = max_keys // 2
        self.clock = clock
        # Each key is in one of the two, in the order they would be forgotten: by when
        # they last failed, or when their block ended (back to counting, at the end).
        self._counting: OrderedDict[str, deque[float]] = OrderedDict()
        self._blocked: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float] | None:
        """The key's failures within the window; a key none of them is left of is
        forgotten, one that fell below the limit counts again."""
        failures = self._counting.get(key)
        if failures is None:
            failures = self._blocked.get(key)
        if failures is None:
            return None
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            self.clear(key)
            return None
        if len(failures) < self.limit and key in self._blocked:
            self._counting[key] = self._blocked.pop(key)
        return failures

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        failures = self._recent(key)
        if failures is None or len(failures) < self.limit:
            return 0.0
        return max(0.0, failures[0] + self.window - self.clock())

    def fail(self, key: str) -> None:
        failures = self._recent(key)
        if failures is None:
            failures = deque(maxlen=self.limit)
        failures.append(self.clock())
        self.clear(key)  # put back last: the most recently failing
        (self._blocked if len(failures) >= self.limit else self._counting)[key] = failures
        self._drop_ended_blocks()
        while len(self._blocked) > self.max_blocked:
            self._blocked.popitem(last=False)
        # Past max_keys, more than half the keys count, so the one that just failed (the
        # last of them) is never the one forgotten.
        while len(self) > self.max_keys:
            self._counting.popitem(last=False)

    def _drop_ended_blocks(self) -> None:
        """Blocks end about in the order they were made: look at the oldest until one
        still holds (one that has ended is forgotten, or counts again)."""
        while self._blocked:
            oldest = next(iter(self._blocked))
            self._recent(oldest)
            if oldest in self._blocked:
                return

    def clear(self, key: str) -> None:
        self._counting.pop(key, None)
        self._blocked.pop(key, None)

    def reset(self) -> None:
        """Forget every key."""
        self._counting.clear()
        self._blocked.clear()

    def tracked(self) -> list[str]:
        """The keys, in the order they would be forgotten: those counting, then the
        blocks."""
        return [*self._counting, *self._blocked]

    def __len__(self) -> int:
        return len(self._counting) + len(self._blocked)
