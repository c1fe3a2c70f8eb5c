"""IP addresses no procedure action may reach, whatever a connection says.

Never reachable: link-local addresses (169.254.0.0/16 and fe80::/10, where clouds serve
instance metadata and credentials at 169.254.169.254), the metadata addresses clouds serve
outside link-local (Alibaba 100.100.100.200, Azure's WireServer 168.63.129.16, AWS's IPv6
fd00:ec2::254), the unspecified addresses (0.0.0.0/8 and `::`, which reach this very
host), multicast, and the reserved and broadcast range 240.0.0.0/4. An IPv6 address that
embeds an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
`64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is judged by the IPv4 address as well.
Loopback and private ranges stay reachable: the demo calls a sample service on loopback,
and companies' systems are often on 10.x addresses.

>>> forbidden(literal("2852039166"))
'link-local / cloud metadata addresses are never reachable from actions'
>>> forbidden(literal("::ffff:169.254.169.254")) == forbidden(literal("169.254.169.254"))
True
>>> forbidden(literal("10.0.0.7")) is None and forbidden(literal("127.0.0.1")) is None
True
>>> literal("erp.example.com") is None
True
"""

from __future__ import annotations

import socket
import threading
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address

METADATA = "link-local / cloud metadata addresses are never reachable from actions"
UNSPECIFIED = (
    "the unspecified address (0.0.0.0, ::) means this host and is never reachable from actions"
)
MULTICAST = "multicast addresses are never reachable from actions"
RESERVED = "reserved and broadcast addresses are never reachable from actions"

_FORBIDDEN = [
    (ip_network("0.0.0.0/8"), UNSPECIFIED),
    (ip_network("169.254.0.0/16"), METADATA),
    (ip_network("100.100.100.200/32"), METADATA),  # Alibaba Cloud
    (ip_network("168.63.129.16/32"), METADATA),  # Azure WireServer
    (ip_network("224.0.0.0/4"), MULTICAST),
    (ip_network("240.0.0.0/4"), RESERVED),  # with 255.255.255.255
    (ip_network("::/128"), UNSPECIFIED),
    (ip_network("fe80::/10"), METADATA),
    (ip_network("fd00:ec2::254/128"), METADATA),  # AWS, over IPv6
    (ip_network("ff00::/8"), MULTICAST),
]
_NAT64 = (ip_network("64:ff9b::/96"), ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ip_network("::/96")
_TRANSLATED = ip_network("::ffff:0:0:0/96")


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, translated, NAT64 or
    6to4 forms), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    low = IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in _NAT64) or address in _TRANSLATED:
        return low
    if address in _COMPATIBLE and int(address) > 1:  # not `::` nor the loopback `::1`
        return low
    return None


def forbidden(address: IPAddress | None) -> str | None:
    """Why `address` may never be reached from an action; None when it may be."""
    if address is None:
        return None
    if isinstance(address, IPv6Address):
        address = IPv6Address(int(address))  # without a zone
        if (inner := embedded_ipv4(address)) is not None and (why := forbidden(inner)):
            return why
    for network, why in _FORBIDDEN:
        if address.version == network.version and address in network:
            return why
    return None


def literal(host: str) -> IPAddress | None:
    """`host` as an IP address when it is one in any spelling the system resolver takes
    literally (dotted, decimal `2852039166`, octal, hex, shortened `127.1`, IPv6 with or
    without brackets and zone); None for a host name. Never looks anything up."""
    host = host.strip("[]")
    try:
        return ip_address(host)
    except ValueError:
        pass
    if ":" in host:
        try:  # a zone the ipaddress module does not take
            return IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    try:  # what getaddrinfo does with a numeric host (inet_aton), without any lookup
        return IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def resolve(host: str, port: int, timeout_s: float | None = None) -> list[IPAddress]:
    """Every address `host` resolves to (getaddrinfo, as the HTTP client will connect);
    raises OSError when it does not resolve, TimeoutError when it has not within
    `timeout_s`. getaddrinfo cannot be cancelled: a lookup that overruns is left to finish
    in a daemon thread, and its answer is not used."""
    answer: list[list[IPAddress] | BaseException] = []

    def lookup() -> None:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            answer.append([ip_address(str(info[4][0]).split("%", 1)[0]) for info in found])
        except BaseException as error:  # handed to the caller below
            answer.append(error)

    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not answer:
        raise TimeoutError(f"{host} did not resolve within {timeout_s:g} s")
    if isinstance(answer[0], BaseException):
        raise answer[0]
    return answer[0]


class Unreachable(ValueError):
    """A host that must not be called: it is, or resolves to, a forbidden address."""


def pinned(host: str, port: int, timeout_s: float | None = None) -> IPAddress:
    """The address to connect to for `host:port`: the host itself when it is a literal
    address, else the first address it resolves to. Raises Unreachable (saying which
    address, and why) when any address it resolves to is forbidden, TimeoutError when it
    has not resolved within `timeout_s`, OSError when it does not resolve. The caller
    connects to this address, not to the name, so a name whose answers change after this
    lookup (DNS rebinding) cannot move the call elsewhere."""
    given = literal(host)
    found = [given] if given is not None else resolve(host, port, timeout_s)
    if not found:
        raise OSError(f"{host} resolves to no address")
    for address in found:
        if (why := forbidden(address)) is not None:
            if given is None:
                raise Unreachable(f"{host} resolves to {address}; {why}")
            raise Unreachable(why if str(address) == host else f"{host} is {address}; {why}")
    return found[0]
