"""An app's TLS certificate (Dokku's certs plugin): APP/tls/server.crt (0644) and server.key (0600).

server.crt holds the certificate, optionally followed by its chain (leaf first), kept as given.
Everything that reads or makes a certificate goes through openssl(): one subprocess with an argv
list; PEM travels on stdin and stdout, so a key is never on a command line or in a temporary file.
"""

import bz2
import gzip
import io
import lzma
import re
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Optional

from minidokku.errors import MinidokkuError, NotFound, ValidationError
from minidokku.routing import domains
from minidokku.state import Store

TLS_DIR = "tls"
CERT_FILE = f"{TLS_DIR}/server.crt"
KEY_FILE = f"{TLS_DIR}/server.key"
GENERATED_DAYS = 365
MAX_FILE_BYTES = 1 << 20  # a certificate chain or a key is a few KiB
# A tar of a chain and a key is a few KiB: this bounds both what is read and what it unpacks to
# (a compressed tar of a few KiB can unpack to gigabytes).
MAX_TARBALL_BYTES = 4 << 20
COMPRESSIONS = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
OPENSSL_TIMEOUT = 30

PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL)
MONTHS = {name: number for number, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
OPENSSL_DATE = re.compile(r"([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s+(\d{4})\s+GMT")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})Z?")
SAN_HEADER = "X509v3 Subject Alternative Name"


class OpensslFailed(MinidokkuError):
    """openssl refused its input (a certificate or key it cannot read, a chain it cannot verify)."""


def openssl(args: list[str], stdin: bytes = b"") -> str:
    """Runs `openssl ARGS` with stdin; returns its stdout, or raises OpensslFailed (stderr's first line)."""
    try:
        result = subprocess.run(
            ["openssl", *args], input=stdin, capture_output=True, timeout=OPENSSL_TIMEOUT, check=False,
            start_new_session=True,  # no terminal for what needs none (access/users.py)
        )  # fmt: skip
    except FileNotFoundError:
        raise MinidokkuError("openssl is not installed: apt-get install -y openssl") from None
    except subprocess.TimeoutExpired:
        raise MinidokkuError(f"openssl {args[0]} did not finish within {OPENSSL_TIMEOUT} s") from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OpensslFailed(f"openssl {args[0]}: {lines[0] if lines else f'exit status {result.returncode}'}")
    return result.stdout.decode("utf-8", "replace")


def paths(store: Store, app: str) -> Optional[tuple[Path, Path]]:
    """(server.crt, server.key) when the app has both, else None."""
    cert, key = store.path(app, CERT_FILE), store.path(app, KEY_FILE)
    return (cert, key) if cert.is_file() and key.is_file() else None


def add(store: Store, app: str, cert_pem: bytes, key_pem: bytes) -> None:
    """Installs (or replaces) the app's certificate and key once both read and belong together."""
    cert_text, key_text = _validated(cert_pem, key_pem)
    store.write(app, KEY_FILE, key_text, mode=0o600)
    store.write(app, CERT_FILE, cert_text, mode=0o644)
    store.path(app, TLS_DIR).chmod(0o750)


def add_tarball(store: Store, app: str, tar_bytes: bytes) -> None:
    """`certs:add APP < certs.tar`: server.crt and server.key in any folder of the tar, or else
    the only *.crt/*.pem file and the only *.key file."""
    files = _tar_files(tar_bytes)
    cert = _pick(files, "server.crt", (".crt", ".pem"), "certificate")
    key = _pick(files, "server.key", (".key",), "key")
    add(store, app, files[cert], files[key])


def generate(store: Store, app: str, domain: str) -> None:
    """Installs a new self-signed certificate for domain: a P-256 key, 365 days, CN and
    subjectAltName DNS:domain, usable by a server only (CA:FALSE, serverAuth)."""
    domain = domains.validate(domain)
    # fmt: off
    output = openssl([
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "-", "-out", "-", "-days", str(GENERATED_DAYS), "-subj", f"/CN={domain}",
        "-addext", f"subjectAltName=DNS:{domain}",
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "keyUsage=critical,digitalSignature",
        "-addext", "extendedKeyUsage=serverAuth",
    ]).encode()
    # fmt: on
    blocks = _pem_blocks(output)
    cert = b"".join(block for label, block in blocks if label == "CERTIFICATE")
    key = b"".join(block for label, block in blocks if label.endswith("PRIVATE KEY"))
    add(store, app, cert, key)


def remove(store: Store, app: str) -> None:
    """Removes the app's tls folder; NotFound when it has none."""
    tls = store.path(app, TLS_DIR)
    if not tls.is_dir():
        raise NotFound(f"{app} has no certificate")
    shutil.rmtree(tls)


def describe(store: Store, app: str) -> dict:
    """The installed certificate, for the report: subject and issuer (RFC 2253), hostnames (its
    subjectAltName DNS names, else its CN), not_before and not_after (UTC datetimes), self_signed
    (issuer is subject), verified (chains up to a CA this machine trusts, and is valid now) and
    fingerprint (SHA-256, colon-separated hex)."""
    installed = paths(store, app)
    if installed is None:
        raise NotFound(f"{app} has no certificate")
    cert_path = installed[0]
    leaf = _certificates(cert_path.read_bytes())[0]
    # fmt: off
    text = openssl([
        "x509", "-noout", "-nameopt", "RFC2253",
        "-subject", "-issuer", "-dates", "-fingerprint", "-sha256", "-text",
    ], leaf)
    # fmt: on
    info = _parse_x509_text(text)
    info["verified"] = _verifies(leaf, cert_path)
    return info


def _validated(cert_pem: bytes, key_pem: bytes) -> tuple[str, str]:
    """The certificate and key as text, once openssl reads both and their public keys are one."""
    if any(label.endswith("PRIVATE KEY") for label, _ in _pem_blocks(cert_pem)):
        raise ValidationError("the certificate file holds a private key: give the key in a file of its own")
    public_keys = [_public_key_of_certificate(block, n) for n, block in enumerate(_certificates(cert_pem), 1)]
    if not any(label.endswith("PRIVATE KEY") for label, _ in _pem_blocks(key_pem)):
        raise ValidationError("invalid key: no PEM private key (-----BEGIN PRIVATE KEY-----) in the key file")
    if b"ENCRYPTED" in key_pem:
        raise ValidationError("invalid key: it is encrypted; give it without a passphrase")
    try:
        # -passin pass: so that openssl never asks for a passphrase on the terminal
        key_public = openssl(["pkey", "-pubout", "-passin", "pass:"], key_pem)
    except OpensslFailed:
        raise ValidationError("invalid key: openssl cannot read it as a private key") from None
    if public_keys[0].split() != key_public.split():
        raise ValidationError("the key does not belong to the certificate: their public keys differ")
    return _text(cert_pem, "certificate"), _text(key_pem, "key")


def _public_key_of_certificate(block: bytes, number: int) -> str:
    try:
        return openssl(["x509", "-noout", "-pubkey"], block)
    except OpensslFailed:
        raise ValidationError(f"invalid certificate: openssl cannot read certificate {number} of the file") from None


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    return [(match.group(1).decode(), match.group(0)) for match in PEM_BLOCK.finditer(data)]


def _certificates(cert_pem: bytes) -> list[bytes]:
    certificates = [block for label, block in _pem_blocks(cert_pem) if label == "CERTIFICATE"]
    if not certificates:
        raise ValidationError("invalid certificate: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file")
    return certificates


def _text(pem: bytes, what: str) -> str:
    try:
        return pem.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"invalid {what}: the file is not PEM text") from None


def _unpacked(tar_bytes: bytes) -> bytes:
    """The plain tar: tar_bytes itself, or unpacked from gzip, bzip2 or xz, never more than
    MAX_TARBALL_BYTES of it."""
    opener = next((opener for magic, opener in COMPRESSIONS if tar_bytes.startswith(magic)), None)
    plain = tar_bytes
    if opener is not None:
        try:
            with opener(io.BytesIO(tar_bytes)) as stream:
                plain = stream.read(MAX_TARBALL_BYTES + 1)
        except (OSError, EOFError, lzma.LZMAError):
            raise ValidationError("the compressed tarball is damaged: expected server.crt and server.key") from None
    if len(plain) > MAX_TARBALL_BYTES:
        raise ValidationError(
            f"the certificate tarball holds more than {MAX_TARBALL_BYTES >> 20} MiB: "
            "a certificate and its key are a few KiB"
        )
    return plain


def _tar_files(tar_bytes: bytes) -> dict[str, bytes]:
    """The tar's regular files, by path; hidden files and folders (`._server.crt`) left out."""
    files = {}
    plain = _unpacked(tar_bytes)
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
            for member in tar:
                path = PurePosixPath(member.name)
                if not member.isfile() or any(part.startswith(".") for part in path.parts):
                    continue
                if member.size > MAX_FILE_BYTES:
                    raise ValidationError(f"{member.name} in the tarball is too large for a certificate or key")
                handle = tar.extractfile(member)
                if handle is not None:
                    files[member.name] = handle.read()
    except (tarfile.TarError, EOFError):
        raise ValidationError("expected a tar archive holding server.crt and server.key") from None
    return files


def _pick(files: dict[str, bytes], preferred: str, suffixes: tuple[str, ...], kind: str) -> str:
    """The one file named `preferred` (in any folder), else the one file ending in a suffix."""
    patterns = ", ".join(f"*{suffix}" for suffix in suffixes)
    for candidates in (
        [name for name in files if PurePosixPath(name).name == preferred],
        [name for name in files if name.endswith(suffixes)],
    ):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise ValidationError(
                f"the tarball holds {len(candidates)} {kind} files ({', '.join(sorted(candidates))}): "
                f"keep one, or name the one to use {preferred}"
            )
    raise ValidationError(f"the tarball holds no {kind} file ({patterns}): expected {preferred}")


def _parse_x509_text(text: str) -> dict:
    """Reads `openssl x509 -subject -issuer -dates -fingerprint -text` output: `key=value` lines
    (keys compared in lower case: OpenSSL 1.1 says `SHA256 Fingerprint`, 3.x `sha256 Fingerprint`)
    then the indented -text dump, whose subjectAltName line follows its header."""
    fields: dict[str, str] = {}
    lines = text.splitlines()
    for line in lines:
        if line[:1].strip() and "=" in line:
            key, _, value = line.partition("=")
            fields.setdefault(key.strip().lower(), value.strip())
    subject = _distinguished_name(fields.get("subject", ""))
    issuer = _distinguished_name(fields.get("issuer", ""))
    fingerprint = next((value for key, value in fields.items() if key.endswith("fingerprint")), "")
    return {
        "subject": subject,
        "issuer": issuer,
        "hostnames": _subject_alt_dns_names(lines) or _common_names(subject),
        "not_before": _date(fields.get("notbefore", "")),
        "not_after": _date(fields.get("notafter", "")),
        "self_signed": subject == issuer,
        "fingerprint": fingerprint.upper(),
    }


def _distinguished_name(value: str) -> str:
    """RFC 2253 as asked; an OpenSSL that ignored -nameopt prints `/C=GB/CN=x`, turned into `CN=x,C=GB`."""
    if value.startswith("/"):
        return ",".join(reversed([part for part in value.split("/") if part]))
    return value


def _common_names(dn: str) -> list[str]:
    names = []
    for rdn in re.split(r"(?<!\\)[,+]", dn):
        key, _, value = rdn.strip().partition("=")
        if key.strip().upper() == "CN" and value:
            names.append(re.sub(r"\\(.)", r"\1", value.strip()))
    return names


def _subject_alt_dns_names(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines[:-1]):
        if line.strip().startswith(SAN_HEADER):
            entries = [entry.strip() for entry in lines[index + 1].split(",")]
            return [entry[len("DNS:") :] for entry in entries if entry.startswith("DNS:")]
    return []


def _date(value: str) -> Optional[datetime]:
    """openssl's `Nov  5 14:38:13 2026 GMT` (month names are always English), or ISO 8601."""
    match = OPENSSL_DATE.search(value)
    if match and match.group(1) in MONTHS:
        month, day, hour, minute, second, year = match.groups()
        parts = (int(year), MONTHS[month], int(day), int(hour), int(minute), int(second))
        return datetime(*parts, tzinfo=UTC)
    match = ISO_DATE.search(value)
    if match:
        return datetime(*(int(part) for part in match.groups()), tzinfo=UTC)
    return None


def _verifies(leaf: bytes, chain_file: Path) -> bool:
    """The leaf chains up (through the file's other certificates) to a CA this machine trusts."""
    try:
        openssl(["verify", "-purpose", "sslserver", "-untrusted", str(chain_file)], leaf)
    except OpensslFailed:
        return False
    return True
