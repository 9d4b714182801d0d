"""Certificates with the real openssl: validation, Dokku's tls layout, the report, the CLI."""

import bz2
import gzip
import io
import lzma
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import DokkuGroup
from minidokku.cli import certs as certs_cli
from minidokku.cli.declare import commands_in
from minidokku.context import Context
from minidokku.errors import NotFound, ValidationError
from minidokku.output import Output
from minidokku.routing import certs
from minidokku.settings import Settings
from minidokku.state import Store

APP = "catmeow"


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "root"
    (root / APP).mkdir(parents=True)
    (root / APP / "HEAD").write_text("ref: refs/heads/main\n")
    return Store(root)


def make_pair(folder, cn="cats.example.com", *extra: str) -> tuple[bytes, bytes]:
    """A P-256 key and a certificate for it from `openssl req` (self-signed unless extra says)."""
    folder.mkdir(exist_ok=True)
    key, crt = folder / f"{cn}.key", folder / f"{cn}.crt"
    subprocess.run(
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        + ["-keyout", str(key), "-out", str(crt), "-subj", f"/CN={cn}", *(extra or ("-x509", "-days", "30"))]
        + ["-addext", f"subjectAltName=DNS:{cn},DNS:www.{cn}"],
        check=True,
        capture_output=True,
    )
    return crt.read_bytes(), key.read_bytes()


def tar_of(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def tls_files(store: Store) -> list[str]:
    tls = store.path(APP, certs.TLS_DIR)
    return sorted(p.name for p in tls.iterdir()) if tls.exists() else []


def test_generated_certificate_is_self_signed_for_the_domain_for_a_year(store):
    assert certs.paths(store, APP) is None
    certs.generate(store, APP, "Cats.Example.com")
    info = certs.describe(store, APP)
    assert info["hostnames"] == ["cats.example.com"]
    assert info["subject"] == info["issuer"] == "CN=cats.example.com"
    assert info["self_signed"] is True and info["verified"] is False
    assert abs(info["not_after"] - datetime.now(UTC) - timedelta(days=365)) < timedelta(minutes=5)
    assert len(info["fingerprint"].split(":")) == 32
    assert certs.paths(store, APP) == (store.path(APP, "tls/server.crt"), store.path(APP, "tls/server.key"))


def test_generate_refuses_a_bad_domain(store):
    with pytest.raises(ValidationError, match="invalid domain"):
        certs.generate(store, APP, "cats/../x")
    assert tls_files(store) == []


def test_matching_pair_is_stored_whole_with_a_private_key_file(store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    certs.add(store, APP, cert, key)
    cert_path, key_path = certs.paths(store, APP)
    assert cert_path.read_bytes() == cert and key_path.read_bytes() == key
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    assert oct(cert_path.stat().st_mode & 0o777) == "0o644"
    assert certs.describe(store, APP)["hostnames"] == ["cats.example.com", "www.cats.example.com"]


def test_chain_signed_by_a_ca_is_kept_whole_and_not_self_signed(store, tmp_path):
    ca_cert, ca_key = make_pair(tmp_path / "ca", "ca.example.com")
    leaf_cert, leaf_key = make_pair(
        tmp_path / "leaf",
        "cats.example.com",
        *("-x509", "-days", "30", "-CA", str(tmp_path / "ca" / "ca.example.com.crt")),
        *("-CAkey", str(tmp_path / "ca" / "ca.example.com.key")),
    )
    certs.add(store, APP, leaf_cert + ca_cert, leaf_key)
    assert certs.paths(store, APP)[0].read_bytes() == leaf_cert + ca_cert
    info = certs.describe(store, APP)
    assert info["issuer"] == "CN=ca.example.com" and info["subject"] == "CN=cats.example.com"
    assert info["self_signed"] is False and info["verified"] is False  # this CA is trusted by no one
    with pytest.raises(ValidationError, match="does not belong"):
        certs.add(store, APP, ca_cert + leaf_cert, leaf_key)  # leaf first, as nginx wants


def test_mismatched_key_is_refused_and_nothing_is_written(store, tmp_path):
    cert, _ = make_pair(tmp_path / "one")
    _, other_key = make_pair(tmp_path / "two")
    with pytest.raises(ValidationError, match="the key does not belong to the certificate"):
        certs.add(store, APP, cert, other_key)
    assert tls_files(store) == []


@pytest.mark.parametrize(
    "which, garbage, message",
    [
        ("cert", b"hello", "invalid certificate"),
        ("cert", b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "cannot read"),
        ("key", b"hello", "invalid key"),
        ("key", b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "cannot read"),
    ],
)
def test_garbage_is_refused_in_one_line(store, tmp_path, which, garbage, message):
    cert, key = make_pair(tmp_path / "pair")
    with pytest.raises(ValidationError, match=message) as refused:
        certs.add(store, APP, garbage if which == "cert" else cert, garbage if which == "key" else key)
    assert "\n" not in str(refused.value)
    assert tls_files(store) == []


def test_a_certificate_file_holding_the_key_is_refused(store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    with pytest.raises(ValidationError, match="holds a private key"):
        certs.add(store, APP, cert + key, key)


def test_tarball_with_the_pair_in_a_subfolder(store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    tarball = tar_of({"certs/server.crt": cert, "certs/server.key": key, "certs/._server.crt": b"junk"})
    certs.add_tarball(store, APP, tarball)
    assert certs.paths(store, APP)[0].read_bytes() == cert


def test_tarball_with_any_one_crt_and_one_key(store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    certs.add_tarball(store, APP, tar_of({"fullchain.pem": cert, "cats.key": key}))
    assert certs.paths(store, APP)[1].read_bytes() == key


@pytest.mark.parametrize(
    "names, message",
    [
        (["a.crt", "b.crt", "server.key"], "holds 2 certificate files"),
        (["server.crt"], "holds no key file"),
    ],
)
def test_ambiguous_or_incomplete_tarball_is_refused(store, tmp_path, names, message):
    cert, key = make_pair(tmp_path / "pair")
    with pytest.raises(ValidationError, match=message):
        certs.add_tarball(store, APP, tar_of({name: key if name.endswith(".key") else cert for name in names}))
    assert tls_files(store) == []


def test_not_a_tarball_is_refused(store):
    with pytest.raises(ValidationError, match="expected a tar archive"):
        certs.add_tarball(store, APP, b"plain text")


def tar_bomb(compress, members: int = 16) -> bytes:
    """A tar of `members` files of 1 MiB of zeros each (each under MAX_FILE_BYTES), compressed:
    a few hundred KiB that would unpack to `members` MiB."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for number in range(members):
            info = tarfile.TarInfo(f"zeros-{number}.pem")
            info.size = 1 << 20
            tar.addfile(info, io.BytesIO(bytes(info.size)))
    return compress(buffer.getvalue())


COMPRESSORS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}


@pytest.mark.parametrize("compression", COMPRESSORS)
def test_a_compressed_tarball_unpacking_past_the_bound_is_refused(store, compression):
    bomb = tar_bomb(COMPRESSORS[compression])
    assert len(bomb) < certs.MAX_TARBALL_BYTES
    with pytest.raises(ValidationError, match="the certificate tarball holds more than 4 MiB"):
        certs.add_tarball(store, APP, bomb)
    assert tls_files(store) == []


def test_a_plain_tarball_past_the_bound_is_refused(store):
    with pytest.raises(ValidationError, match="holds more than 4 MiB"):
        certs.add_tarball(store, APP, tar_bomb(lambda plain: plain, members=5))


@pytest.mark.parametrize("compression", COMPRESSORS)
def test_a_compressed_tarball_of_the_pair_is_read(store, tmp_path, compression):
    cert, key = make_pair(tmp_path / "pair")
    certs.add_tarball(store, APP, COMPRESSORS[compression](tar_of({"server.crt": cert, "server.key": key})))
    assert certs.paths(store, APP)[1].read_bytes() == key


def test_a_damaged_compressed_tarball_is_refused(store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    cut = gzip.compress(tar_of({"server.crt": cert, "server.key": key}))[:-40]
    with pytest.raises(ValidationError, match="the compressed tarball is damaged"):
        certs.add_tarball(store, APP, cut)


@pytest.mark.parametrize("domain", ["-newkey", "--config=/etc/passwd", "a.test/CN=evil", "a.test,IP:127.0.0.1", ""])
def test_generate_takes_only_a_domain_name(store, domain):
    with pytest.raises(ValidationError, match="invalid domain"):
        certs.generate(store, APP, domain)
    assert tls_files(store) == []


def test_remove_takes_the_tls_folder_away(store):
    with pytest.raises(NotFound):
        certs.remove(store, APP)
    certs.generate(store, APP, "cats.example.com")
    certs.remove(store, APP)
    assert certs.paths(store, APP) is None and not store.path(APP, "tls").exists()
    with pytest.raises(NotFound):
        certs.describe(store, APP)


@pytest.mark.parametrize(
    "text, subject, hostnames, fingerprint, not_after",
    [
        (  # OpenSSL 3.x with -nameopt RFC2253
            "subject=CN=a.example.com,O=Cats\\, Inc\nissuer=CN=Some CA\nnotBefore=Nov  5 01:02:03 2026 GMT\n"
            "notAfter=Nov  5 01:02:03 2027 GMT\nsha256 Fingerprint=ab:CD\nCertificate:\n    Data:\n"
            "            X509v3 Subject Alternative Name: critical\n"
            "                DNS:a.example.com, IP Address:1.2.3.4\n",
            "CN=a.example.com,O=Cats\\, Inc",
            ["a.example.com"],
            "AB:CD",
            datetime(2027, 11, 5, 1, 2, 3, tzinfo=UTC),
        ),
        (  # an older OpenSSL that ignored -nameopt; no subjectAltName: the CN is the hostname
            "subject= /C=GB/CN=b.example.com\nissuer= /C=GB/CN=b.example.com\nnotBefore=Jan 1 00:00:00 2020 GMT\n"
            "notAfter=2030-01-01 00:00:00Z\nSHA256 Fingerprint=EF:01\n",
            "CN=b.example.com,C=GB",
            ["b.example.com"],
            "EF:01",
            datetime(2030, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_openssl_output_of_either_age_is_read(text, subject, hostnames, fingerprint, not_after):
    info = certs._parse_x509_text(text)
    assert (info["subject"], info["hostnames"], info["fingerprint"]) == (subject, hostnames, fingerprint)
    assert info["not_after"] == not_after


@pytest.fixture
def dokku(store, monkeypatch):
    """A group with only the certs commands, run as the real one runs (errors as ` !     message`).
    The app is never deployed, so rerouting it touches neither Docker nor nginx (the https
    integration test routes a certificate for real)."""
    monkeypatch.setenv("DOKKU_ROOT", str(store.root))

    @click.group(cls=DokkuGroup)
    @click.pass_context
    def group(click_ctx: click.Context) -> None:
        click_ctx.obj = Context(Settings.load(), Output(sys.stdout))

    for command in commands_in(certs_cli):
        group.add_command(command)
    runner = CliRunner()

    def run(*args: str, input=None):
        return runner.invoke(group, list(args), input=input, catch_exceptions=False)

    return run


def test_cli_add_from_files_then_report_then_remove(dokku, store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    (tmp_path / "server.crt").write_bytes(cert)
    (tmp_path / "server.key").write_bytes(key)
    added = dokku("certs:add", APP, str(tmp_path / "server.crt"), str(tmp_path / "server.key"))
    assert added.exit_code == 0 and added.output == f"-----> Adding {APP} to ssl\n"
    report = dokku("certs:report", APP).output.splitlines()
    assert report[0] == f"=====> {APP} ssl information"
    assert f"       Ssl dir:                       {store.root}/{APP}/tls" in report
    assert "       Ssl enabled:                   true" in report
    assert "       Ssl hostnames:                 cats.example.com www.cats.example.com" in report
    assert "       Ssl verified:                  self signed" in report
    assert any(line.startswith("       Ssl expires at:") and line.endswith(" GMT") for line in report)
    removed = dokku("certs:remove", APP)
    assert removed.output == f"-----> Removing SSL endpoint from {APP}\n"
    assert "       Ssl enabled:                   false" in dokku("certs:report").output


def test_cli_add_reads_a_tarball_on_stdin_and_refuses_a_bad_one(dokku, store, tmp_path):
    cert, key = make_pair(tmp_path / "pair")
    assert dokku("certs:update", APP, input=tar_of({"x/server.crt": cert, "x/server.key": key})).exit_code == 0
    refused = dokku("certs:add", APP, input=b"not a tar")
    assert refused.exit_code == 1 and " !     expected a tar archive" in refused.output


def test_cli_generate_and_commands_on_a_missing_app(dokku, store):
    generated = dokku("certs:generate", APP, "cats.example.com")
    assert generated.exit_code == 0 and "Generating a self-signed certificate for cats.example.com" in generated.output
    assert certs.paths(store, APP) is not None
    missing = dokku("certs:remove", "ghost")
    assert missing.exit_code == 20 and "App ghost does not exist" in missing.output
    assert dokku("certs:add", APP, "only-one-file").exit_code == 1  # a missing argument, as in Dokku


def test_a_user_key_gives_its_certificate_on_stdin_never_as_a_server_path(dokku, store, tmp_path, monkeypatch):
    cert, key = make_pair(tmp_path / "pair")
    (tmp_path / "server.crt").write_bytes(cert)
    (tmp_path / "server.key").write_bytes(key)
    rules.set_role(store, "alice", rules.USER)
    rules.grant(store, APP, "alice")
    monkeypatch.setenv("NAME", "alice")
    refused = dokku("certs:add", APP, str(tmp_path / "server.crt"), str(tmp_path / "server.key"))
    assert refused.exit_code == 1 and "alice is a user key: give CERT_FILE on stdin" in refused.output
    assert certs.paths(store, APP) is None
    assert dokku("certs:add", APP, input=tar_of({"x/server.crt": cert, "x/server.key": key})).exit_code == 0
    assert certs.paths(store, APP) is not None
