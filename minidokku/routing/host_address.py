"""This machine's address as others reach it: the IPv4 address its route to the internet leaves
from (the sample's sslip.io domain is made of it). Asking the kernel which source address a UDP
socket connected to a public address gets sends nothing; a machine with no such route is only
reached on loopback."""

import ipaddress
import socket

PROBE = ("1.1.1.1", 53)  # a public address: the kernel picks the default route for it
LOOPBACK = "127.0.0.1"


def outward_ipv4() -> str:
    """The source address of this machine's default IPv4 route, or 127.0.0.1 without one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(PROBE)
            address = probe.getsockname()[0]
    except OSError:
        return LOOPBACK
    return str(ipaddress.IPv4Address(address)) if address != "0.0.0.0" else LOOPBACK
