"""lego, the ACME client (Debian's `lego`, the client dokku-letsencrypt runs): the one door to it.

lego runs on the host as the dokku user (every command re-runs as the state root's owner), from
an argv list: each value goes as `--option=VALUE`, so none can become an option of its own, and
lego-args are only the options records/letsencrypt.py allows. Its environment is built here and
nothing else: PATH, LEGO_CA_CERTIFICATES (the ca-bundle that signs a private ACME server's own
https certificate) and a DNS provider's credentials.

lego keeps its files under --path: accounts/SERVER/EMAIL/ (the account key, 0600) and
certificates/NAME.crt|.key|.issuer.crt|.json for the first domain NAME (`*` as `_`).
"""

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from minidokku.errors import MinidokkuError

PROGRAM = "lego"
TIMEOUT = 300  # seconds lego may take for one order (its own HTTP and certificate timeouts are shorter)
CERT_TIMEOUT = 30  # the plugin's --cert.timeout
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CERTIFICATE_SUFFIXES = (".crt", ".key", ".issuer.crt", ".json", ".pem")  # the files of one certificate
LOG_PREFIX = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} (\[[A-Z]+\] )?")


class LegoFailed(MinidokkuError):
    """lego ended with an error: the message is its last error line; output is all it printed."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Order:
    """What lego is asked for: a certificate of domains (the first names the files) from server."""

    server: str
    email: str
    domains: tuple[str, ...]
    path: Path  # lego's --path
    webroot: Path  # HTTP-01: where lego writes .well-known/acme-challenge/TOKEN
    dns_provider: str = ""  # DNS-01 with this lego provider instead
    extra: tuple[str, ...] = ()  # checked lego-args
    ca_bundle: str = ""
    credentials: dict[str, str] = field(default_factory=dict)  # the DNS provider's environment


def argv(order: Order, action: str, action_args: tuple[str, ...] = ()) -> list[str]:
    """lego's argv for action (run or revoke)."""
    words = [
        PROGRAM,
        "--accept-tos",
        f"--email={order.email}",
        f"--server={order.server}",
        f"--path={order.path}",
        f"--cert.timeout={CERT_TIMEOUT}",
    ]
    if order.dns_provider:
        words.append(f"--dns={order.dns_provider}")
    else:
        words += ["--http", f"--http.webroot={order.webroot}"]
    words += list(order.extra)
    words += [f"--domains={domain}" for domain in order.domains]
    return [*words, action, *action_args]


def environment(order: Order) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", DEFAULT_PATH), "HOME": str(order.path)}
    if order.ca_bundle:
        env["LEGO_CA_CERTIFICATES"] = order.ca_bundle
    if order.dns_provider:
        env.update(order.credentials)
    return env


def run(order: Order, action: str, action_args: tuple[str, ...] = ()) -> str:
    """Runs lego; returns what it printed, or raises LegoFailed."""
    try:
        result = subprocess.run(  # noqa: S603 - argv built above, values after `=`
            argv(order, action, action_args),
            env=environment(order),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise MinidokkuError("lego is not installed: apt-get install -y lego") from None
    except subprocess.TimeoutExpired as expired:
        raise LegoFailed(f"lego did not finish within {TIMEOUT} s", str(expired.output or "")) from None
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise LegoFailed(error_line(output) or f"lego exited with status {result.returncode}", output)
    return output


def error_line(output: str) -> str:
    """The line saying why lego failed: its last line, without the log's date."""
    lines = [LOG_PREFIX.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else ""


def certificate_files(order: Order) -> tuple[Path, Path]:
    """(certificate with its chain, key) lego wrote for the order."""
    name = order.domains[0].replace("*", "_")
    folder = order.path / "certificates"
    return folder / f"{name}.crt", folder / f"{name}.key"
