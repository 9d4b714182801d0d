"""The addresses nginx reaches web containers at: each web container joins one more network, the
web network, at an address minidokku pins in its endpoint (IPAMConfig), before its first start.

Why not its published port: on 127.0.0.1 that is Docker's userland proxy (docker-proxy), a
process copying every byte between two connections; nginx straight to the container served 17-38 %
more requests per second (bench/proxy_overhead.py). Why not the address the engine gives: after the
engine restarts, containers come back in another order with other addresses, so until nginx's sites
are written again one app's address may be another app's container, which would get its requests.
A pinned address comes back with its container at every start, and nothing else is given it:

- There is one web network on the engine, for every root's web containers: a bridge on a subnet
  the engine picked from its pools (so none the host routes elsewhere), named in the network's IPAM
  config, since the engine pins addresses only there. The lower half of the subnet is the engine's
  to give (what an admin joins by hand); minidokku pins from the upper half.
- It is internal (nothing leaves through it: a container's way out stays its other network) and
  inter-container traffic is off: no container on it reaches another; the host (nginx) reaches each.
- An address is never one a container on the engine, running or stopped, has pinned there; the
  pick and the container's creation happen under the scheduler's lock. Another root on the same
  engine (tests) may pin the same one meanwhile: the start is refused (address_refused) and the
  scheduler creates the container again at another.
"""

import ipaddress
import itertools
import random
import secrets
from collections.abc import Iterable
from typing import Optional

from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound
from minidokku.runtime import labels

NETWORK = "minidokku-web"
OPTIONS = {"com.docker.network.bridge.enable_icc": "false"}
CREATE_ATTEMPTS = 3  # another network may take the engine's pick between its probe and our creation
PICK_ATTEMPTS = 200  # random draws, before the addresses are tried in order


def pinned_half(network: dict) -> ipaddress.IPv4Network:
    """The upper half of the web network's subnet, where minidokku pins addresses; refuses a
    network of that name made otherwise (inter-container traffic or IPv6 on, a way out, or the
    engine's range not the lower half)."""
    options = network.get("Options") or {}
    made_so = bool(
        (network.get("Labels") or {}).get(labels.NETWORK) == "web"
        and network.get("Internal")
        and not network.get("EnableIPv6")
        and all(options.get(name) == value for name, value in OPTIONS.items())
    )
    config = (network.get("IPAM") or {}).get("Config") or []
    try:
        subnet = ipaddress.IPv4Network(config[0]["Subnet"])
        made_so = made_so and len(config) == 1 and config[0].get("IPRange") == str(next(subnet.subnets()))
    except (IndexError, KeyError, ValueError):
        made_so = False
    if not made_so:
        raise EngineError(
            f"the Docker network {NETWORK} was not made by minidokku; remove it (docker network rm {NETWORK})"
        )
    return list(subnet.subnets())[1]


def joins_networks(network: Optional[str]) -> bool:
    """Whether a container created on network (None: the apps' or its initial one) can join the
    web network: not one without networking, on the host's, or in another container's."""
    return network not in ("none", "host") and not (network or "").startswith("container:")


def ensure(engine: Engine) -> ipaddress.IPv4Network:
    """The web network's pinned half, the network made first if it is not there."""
    for _ in range(CREATE_ATTEMPTS):
        try:
            return pinned_half(engine.inspect_network(NETWORK))
        except EngineNotFound:
            pass
        subnet = _engine_pick(engine)
        ipam = [{"Subnet": str(subnet), "IPRange": str(next(subnet.subnets()))}]
        try:
            engine.create_network(NETWORK, {labels.NETWORK: "web"}, OPTIONS, internal=True, ipam=ipam, ipv6=False)
        except EngineError as error:
            if error.status not in (400, 403, 409):  # taken: the subnet by another network, or the name
                raise
    return pinned_half(engine.inspect_network(NETWORK))


def _engine_pick(engine: Engine) -> ipaddress.IPv4Network:
    """A subnet free on the engine and the host, as the engine picks for a network of its own."""
    probe = f"{NETWORK}-probe-{secrets.token_hex(4)}"
    engine.create_network(probe, {labels.NETWORK: "probe"}, internal=True)
    try:
        return ipaddress.IPv4Network(engine.inspect_network(probe)["IPAM"]["Config"][0]["Subnet"])
    finally:
        engine.remove_network(probe)


def taken(listed: list[dict]) -> set[str]:
    """Every address a container of listed (the engine's list of every container, running or
    stopped, anyone's) has pinned on the web network."""
    found = set()
    for entry in listed:
        endpoint = ((entry.get("NetworkSettings") or {}).get("Networks") or {}).get(NETWORK) or {}
        if address := pinned(endpoint):
            found.add(address)
    return found


def pick(listed: list[dict], half: ipaddress.IPv4Network, refused: Iterable[str] = ()) -> str:
    """A free address of the pinned half (none taken by listed), at random (so that roots sharing
    an engine seldom race for one, and a freed address seldom comes back soon), else the first free
    one; refused: addresses a start was just refused on. Call under the scheduler's lock."""
    unusable = taken(listed) | set(refused)
    first, size = int(half.network_address), half.num_addresses - 1  # the broadcast address left out
    draws = (first + random.randrange(size) for _ in range(PICK_ATTEMPTS))
    for number in itertools.chain(draws, range(first, first + size)):
        if (address := str(ipaddress.IPv4Address(number))) not in unusable:
            return address
    raise EngineError(f"no free address left in {half} for a web container")


def pinned(endpoint: dict) -> Optional[str]:
    """The address pinned in a container's endpoint on the web network, if any."""
    return ((endpoint or {}).get("IPAMConfig") or {}).get("IPv4Address") or None


def address_refused(error: EngineError) -> bool:
    """Whether the engine refused a start because the pinned address is another container's (its
    words, capitalised, unlike a host port's `bind: address already in use`)."""
    return "Address already in use" in str(error)
