"""Which URLs the host fetches for whom (buildpacks, `git:from-archive`).

Admin keys and root on the host are trusted, as every Dokku key is: what they name is fetched
as given (ssh://, file://, any address). A tenant app (one granted to a user key) is held to the
tenant rules whoever triggers the fetch, since its tenant controls its config (BUILDPACK_URL)
and its pushed files (.buildpacks):
- only http://, https:// and git:// URLs, in a plain form (a host name or address, a port, a
  path; no query, no backslash, no percent-encoded host) so that git, curl and this check all
  read the same host: no file://, no local path, no ssh:// nor `host:path` (the host's own ssh
  keys), no git transport helper (`ext::`, `fd::`);
- every address the host name resolves to is public: not loopback, link-local (the cloud
  metadata address), private, shared, multicast or reserved, and none of this machine's own;
- the connection goes to the address checked, never to a second lookup (a DNS answer that
  changes in between), and a redirect is checked again as a new URL, or not followed.
"""

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from minidokku.access import rules
from minidokku.errors import ValidationError
from minidokku.state import Store

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
DEFAULT_PORTS = {"https": 443, "http": 80, "git": 9418}
_HOST = r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])"
FORM = re.compile(
    r"^(?P<scheme>https|http|git)://"
    r"(?P<userinfo>[A-Za-z0-9._~%+-]+(?::[A-Za-z0-9._~%+-]*)?@)?"
    rf"{_HOST}(?::(?P<port>[0-9]{{1,5}}))?"
    r"(?P<path>/[A-Za-z0-9._~%+/@:=,-]*)?$"
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # a gateway's IPv6 names for IPv4 addresses


@dataclass(frozen=True)
class Policy:
    """The tenant rules' two questions: which addresses a host name has (`resolve`, the
    system's resolver; tests stand in their own names) and which addresses may be reached."""

    resolve: Callable[[str, int], list[str]]
    refusal: Callable[[IPAddress], str]  # why an address may not be reached, "" when it may


@dataclass(frozen=True)
class Destination:
    """A URL that passed the tenant rules: the host may connect to `address` and nowhere else."""

    url: str
    scheme: str
    host: str  # as in the URL, without [ ] around an IPv6 address
    port: int
    address: str
    userinfo: str  # with its trailing @, or ""
    path: str

    @property
    def host_is_address(self) -> bool:
        return _address(self.host) is not None

    @property
    def netloc(self) -> str:
        """host[:port] as the URL has it: the Host header a pinned request sends."""
        return self.url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]

    def with_address(self) -> str:
        """The URL with the checked address in place of the host name."""
        return f"{self.scheme}://{self.userinfo}{_in_url(self.address)}:{self.port}{self.path}"


def policy_for(store: Store, app: str) -> Optional[Policy]:
    """The rules fetches for app follow: TENANT for a tenant app, None (trusted) for the others."""
    return TENANT if rules.is_tenant_app(store, app) else None


def check_form(url: str) -> None:
    """The tenant rules that need no lookup: scheme and form (ValidationError, one line)."""
    _form(url)


def destination(url: str, policy: Policy) -> Destination:
    """Checks url against the tenant rules, resolving its host once; raises ValidationError."""
    match = _form(url)
    scheme, host = match["scheme"], match["host"].strip("[]")
    port = int(match["port"] or DEFAULT_PORTS[scheme])
    if not 0 < port < 65536:
        raise ValidationError(f"{url[:80]!r} has no valid port")
    try:
        addresses = policy.resolve(host, port)
    except OSError as error:
        raise ValidationError(f"{host[:80]} does not resolve: {error.strerror or error}") from None
    if not addresses:
        raise ValidationError(f"{host[:80]} does not resolve")
    for address in addresses:
        why = policy.refusal(ipaddress.ip_address(address))
        if why:
            shown = host if host == address else f"{host} is {address}"
            raise ValidationError(f"{shown[:120]}, {why}: a tenant app's URLs must reach public addresses only")
    path = match["path"] or "/"
    return Destination(url, scheme, host, port, addresses[0], match["userinfo"] or "", path)


def refusal(address: IPAddress, own: Optional[set[IPAddress]] = None) -> str:
    """Why a tenant's fetch may not reach address ("" when it may): the rule of TENANT."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and refusal(embedded, own):
            return f"{refusal(embedded, own)} (as {embedded})"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (such as the cloud metadata service)"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:  # fec0::/10: Python 3.11 calls it global
        return "a site-local address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "not an address of a host"
    if address in (own if own is not None else own_addresses()):
        return "an address of this machine"
    if not address.is_global:
        return "a private address"
    return ""


def own_addresses() -> set[IPAddress]:
    """The addresses of this machine's interfaces (Linux: /proc; elsewhere none are known)."""
    found: set[IPAddress] = set()
    try:
        lines = Path("/proc/net/fib_trie").read_text(encoding="ascii").splitlines()
        found |= {
            ipaddress.ip_address(lines[i - 1].split()[-1]) for i, line in enumerate(lines) if "/32 host LOCAL" in line
        }
        for line in Path("/proc/net/if_inet6").read_text(encoding="ascii").splitlines():
            found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    except (OSError, ValueError, IndexError):
        pass
    return found


def _resolve(host: str, port: int) -> list[str]:
    """Every address of host, in the resolver's order (IPv6 scope ids dropped)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).partition("%")[0] for info in infos))


TENANT = Policy(resolve=_resolve, refusal=refusal)


def _form(url: str) -> re.Match:
    match = FORM.match(url)
    if not match:
        raise ValidationError(
            f"{url[:80]!r} is not allowed for a tenant app: only https://, http:// or git:// URLs "
            "(a host, an optional port, a path)"
        )
    return match


def _address(text: str) -> Optional[IPAddress]:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _in_url(address: str) -> str:
    return f"[{address}]" if ":" in address else address
