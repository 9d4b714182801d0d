"""Which TCP ports something on this host listens on, read from /proc/net/tcp and tcp6.

`nginx -t` does not bind its ports; a reload that cannot bind one fails in nginx's own log only,
and every later reload fails the same way. So a port is checked free before nginx is told to
listen on it.
"""

from pathlib import Path

TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
LISTEN_STATE = "0A"


def tcp_ports() -> set[int]:
    """Ports in the LISTEN state on any address; empty where /proc cannot be read."""
    ports = set()
    for table in TABLES:
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == LISTEN_STATE:
                ports.add(int(fields[1].rpartition(":")[2], 16))
    return ports
