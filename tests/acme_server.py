"""A real ACME server on loopback for the letsencrypt tests: Debian's pebble, its DNS answered by
pebble-challtestsrv (every name is 127.0.0.1), its own https certificate signed by a CA made here
with openssl, its HTTP-01 checks sent to the test platform's nginx. Names the host itself must
resolve (letsencrypt:enable checks each) go into /etc/hosts for the test, under a lock, and out
again after it."""

import fcntl
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from helpers import free_port, wait_for_port

HOSTS = Path("/etc/hosts")
HOSTS_LOCK = Path("/tmp/minidokku-test-hosts.lock")
MARK = "# minidokku letsencrypt test"


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1 and localhost, its key)."""
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "key.pem", "req.csr", "cert.pem"))
    openssl = ["openssl"]
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    # fmt: off
    subprocess.run([*openssl, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
                    "-subj", "/CN=minidokku test ACME CA", "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True)
    subprocess.run([*openssl, "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    extensions = folder / "ext.cnf"
    extensions.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    subprocess.run([*openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-days", "2", "-out", cert, "-extfile", extensions], check=True, capture_output=True)
    # fmt: on
    return ca, cert, key


@dataclass
class Acme:
    directory: str  # the ACME directory URL
    ca: Path  # signs pebble's own https certificate (letsencrypt:set --global ca-bundle)
    management: int  # pebble's management port (roots, certificate status)
    dns: int  # pebble-challtestsrv's DNS port (every A record 127.0.0.1, TXT records as set)
    challenges: int  # pebble-challtestsrv's management port (POST /set-txt, /clear-txt)
    processes: list

    def root(self, folder: Path) -> Path:
        """pebble's root of the certificates it issues (made anew each start)."""
        pem = requests.get(f"https://127.0.0.1:{self.management}/roots/0", verify=str(self.ca), timeout=10).text
        path = folder / "pebble-root.pem"
        path.write_text(pem)
        return path

    def status(self, serial_hex: str) -> str:
        """Valid or Revoked, as pebble records the certificate."""
        url = f"https://127.0.0.1:{self.management}/cert-status-by-serial/{serial_hex.lower()}"
        return requests.get(url, verify=str(self.ca), timeout=10).json()["Status"]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(10)


def start(folder: Path, http_port: int) -> Acme:
    """pebble (and its DNS) checking HTTP-01 on http_port."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, cert, key = make_ca(folder)
    listen, management, dns, challenges = free_port(), free_port(), free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{listen}",
            "managementListenAddress": f"127.0.0.1:{management}",
            "certificate": str(cert),
            "privateKey": str(key),
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (folder / "pebble.json").write_text(json.dumps(config))
    env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
    log = open(folder / "pebble.log", "w")  # noqa: SIM115 - the processes keep it
    # fmt: off
    challtestsrv = subprocess.Popen(
        ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", f"127.0.0.1:{dns}",
         "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", f"127.0.0.1:{challenges}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    pebble = subprocess.Popen(
        ["pebble", "-config", str(folder / "pebble.json"), "-dnsserver", f"127.0.0.1:{dns}"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    # fmt: on
    acme = Acme(f"https://127.0.0.1:{listen}/dir", ca, management, dns, challenges, [pebble, challtestsrv])
    try:
        wait_for_port(listen)
        wait_for_port(management)
        wait_for_port(challenges)
    except RuntimeError:
        acme.stop()
        raise AssertionError((folder / "pebble.log").read_text()) from None
    return acme


@contextmanager
def resolving(*names: str) -> Iterator[None]:
    """names resolve to 127.0.0.1 on this host (lines in /etc/hosts) for the block. /etc/hosts
    is rewritten in place (it may be a mount), each change under a lock among test workers."""
    lines = [f"127.0.0.1 {name} {MARK} {os.getpid()}\n" for name in names]
    _edit_hosts(lambda text: text + "".join(lines))
    try:
        yield
    finally:
        _edit_hosts(lambda text: "".join(line for line in text.splitlines(True) if line not in lines))


def _edit_hosts(change) -> None:
    with open(HOSTS_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(HOSTS, "r+") as hosts:
            text = hosts.read()
            if not text.endswith("\n") and text:
                text += "\n"
            hosts.seek(0)
            hosts.write(change(text))
            hosts.truncate()


def webroot_folder() -> Path:
    """A challenge webroot nginx's workers (nobody) can read: 0755, under /tmp."""
    folder = Path(tempfile.mkdtemp(prefix="minidokku-acme-"))
    folder.chmod(0o755)
    return folder


def wait_for(check, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)
