"""The tenant rules for what the host fetches (access/urls.py), and the fetches that follow them: git
clones (gitrepo.fetch_tree) and archive downloads (archives.download), against real servers on
loopback addresses. A test policy stands in for DNS and for "public": it lets through only
127.0.0.2, under names no resolver knows, so a fetch that works proves the connection went to the
checked address; 127.0.0.1 plays the host's own services, which must never get a request."""

import io
import ipaddress
import tarfile

import pytest
from helpers import git
from servers import GitDaemon, RecordingServer, served_over_dumb_http

from minidokku.access import rules, urls
from minidokku.build import archives, gitrepo
from minidokku.errors import GitError, NotFound, ValidationError
from minidokku.state import Store

ALLOWED = "127.0.0.2"
NAMES = {"buildpacks.test": [ALLOWED], "archive.test": [ALLOWED], "mixed.test": ["8.8.8.8", "127.0.0.1"]}
TEST_POLICY = urls.Policy(
    resolve=lambda host, _port: NAMES.get(host, [host]),
    refusal=lambda address: "" if str(address) == ALLOWED else "not the test server",
)


# -- the form ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/heroku/heroku-buildpack-python.git",
        "http://example.com:8080/team/bp",
        "git://example.com/bp.git",
        "https://token:x-oauth-basic@github.com/team/private.git",
        "https://[2001:db8::1]:8443/bp.git",
        "https://example.com",
    ],
)
def test_plain_https_http_and_git_urls_have_the_tenant_form(url):
    urls.check_form(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///home/dokku/victim",
        "/home/dokku/victim",
        "../victim",
        "ssh://git@example.com/bp.git",
        "git@example.com:team/bp.git",
        "example.com:bp.git",
        "ext::sh -c touch% /tmp/owned",
        "fd::3",
        "file::/etc",
        "git+ssh://example.com/bp.git",
        "ftp://example.com/bp.git",
        "https://example.com/bp.git?upload-pack=x",
        "https://example.com\\@127.0.0.1/bp.git",
        "https://a@b@127.0.0.1/bp.git",
        "https://127%2e0%2e0%2e1/bp.git",
        "https://-example.com/bp.git",
        "https:///bp.git",
        "https://example.com/a b.git",
        "HTTPS://example.com/bp.git",
    ],
)
def test_anything_else_is_refused_for_a_tenant_in_one_line(url):
    with pytest.raises(ValidationError, match="only https://, http:// or git:// URLs") as error:
        urls.check_form(url)
    assert "\n" not in str(error.value)


# -- the addresses -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:2375/containers/json", "a loopback address"),
        ("http://localhost:2375/", "localhost is 127.0.0.1, a loopback address"),
        ("http://[::1]/", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://[fec0::1]/", "a site-local address"),  # deprecated, yet Python 3.11 counts it global
        ("http://10.0.0.5/bp.git", "a private address"),
        ("http://192.168.1.1/bp.git", "a private address"),
        ("http://100.64.0.1/bp.git", "a private address"),
        ("http://172.17.0.1:2375/", "172.17.0.1, "),  # the Docker bridge: this machine's, and private
        ("http://0.0.0.0:2375/", "not an address of a host"),
        ("http://224.0.0.1/", "not an address of a host"),
        ("http://2130706433/", "2130706433 is 127.0.0.1, a loopback address"),
        ("http://0x7f.1/", "0x7f.1 is 127.0.0.1, a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address (as 127.0.0.1)"),
        ("http://[64:ff9b::a9fe:a9fe]/", "a link-local address (such as the cloud metadata service) (as 169.254"),
        ("git://127.0.0.1/bp.git", "a loopback address"),
    ],
)
def test_the_host_itself_and_non_public_addresses_are_refused(url, why):
    with pytest.raises(ValidationError, match="a tenant app's URLs must reach public addresses only") as error:
        urls.destination(url, urls.TENANT)
    assert why in str(error.value)


def test_this_machines_own_public_address_is_refused_too():
    address = ipaddress.ip_address("8.8.8.8")
    assert urls.refusal(address, own=set()) == ""
    assert urls.refusal(address, own={address}) == "an address of this machine"


def test_this_machines_own_addresses_are_read_from_the_kernel():
    own = urls.own_addresses()
    assert ipaddress.ip_address("127.0.0.1") in own
    assert ipaddress.ip_address("::1") in own


def test_a_name_with_one_bad_address_among_good_ones_is_refused():
    policy = urls.Policy(resolve=TEST_POLICY.resolve, refusal=urls.refusal)
    with pytest.raises(ValidationError, match="mixed.test is 127.0.0.1, a loopback address"):
        urls.destination("https://mixed.test/bp.git", policy)


def test_a_name_that_does_not_resolve_is_one_clear_line():
    with pytest.raises(ValidationError, match="no-such-host.invalid does not resolve"):
        urls.destination("https://no-such-host.invalid/bp.git", urls.TENANT)


def test_a_destination_keeps_the_checked_address_to_connect_to():
    destination = urls.destination("https://user:pw@buildpacks.test:8443/team/bp.git", TEST_POLICY)
    assert (destination.host, destination.port, destination.address) == ("buildpacks.test", 8443, ALLOWED)
    assert destination.netloc == "buildpacks.test:8443"
    assert destination.with_address() == f"https://user:pw@{ALLOWED}:8443/team/bp.git"
    v6 = urls.destination("git://[2001:db8::1]/bp", urls.Policy(lambda h, p: [h], lambda a: ""))
    assert v6.with_address() == "git://[2001:db8::1]:9418/bp"


def test_a_tenant_app_gets_the_tenant_rules_and_another_none(tmp_path):
    store = Store(tmp_path)
    for app in ("tenant", "admins"):
        store.app_dir(app).mkdir(parents=True)
    rules.grant(store, "tenant", "eve")
    assert urls.policy_for(store, "tenant") is urls.TENANT
    assert urls.policy_for(store, "admins") is None


# -- git clones under the rules ----------------------------------------------------------------
@pytest.fixture
def buildpack_repo(tmp_path):
    repo = tmp_path / "bp"
    (repo / "bin").mkdir(parents=True)
    (repo / "bin" / "compile").write_text("#!/bin/sh\necho compiled\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bp")
    return repo


def test_a_pinned_http_clone_connects_to_the_checked_address_under_a_name_no_resolver_knows(tmp_path, buildpack_repo):
    bare = served_over_dumb_http(buildpack_repo)
    with RecordingServer(ALLOWED, folder=bare.parent) as server:
        url = server.url(f"/{bare.name}", host="buildpacks.test")
        gitrepo.fetch_tree(url, "main", tmp_path / "out", urls.destination(url, TEST_POLICY))
    assert (tmp_path / "out" / "bin" / "compile").read_text() == "#!/bin/sh\necho compiled\n"
    assert all(line.endswith(f"buildpacks.test:{server.port}") for line in server.requests), server.requests


def test_a_pinned_clone_follows_no_redirect_to_the_hosts_own_services(tmp_path):
    with RecordingServer("127.0.0.1") as service:
        with RecordingServer(ALLOWED, redirect_to=service.url("/bp.git/info/refs")) as server:
            url = server.url("/bp.git", host="buildpacks.test")
            with pytest.raises(GitError):
                gitrepo.fetch_tree(url, "main", tmp_path / "out", urls.destination(url, TEST_POLICY))
        assert server.requests, "the first hop was asked"
    assert service.requests == []
    assert not (tmp_path / "out").exists()


def test_a_pinned_git_protocol_clone_connects_to_the_checked_address(tmp_path, buildpack_repo):
    bare = served_over_dumb_http(buildpack_repo)
    with GitDaemon(bare.parent, address=ALLOWED) as daemon:
        url = f"git://buildpacks.test:{daemon.port}/{bare.name}"
        gitrepo.fetch_tree(url, "", tmp_path / "out", urls.destination(url, TEST_POLICY))
    assert (tmp_path / "out" / "bin" / "compile").is_file()


def test_a_pinned_clone_reads_none_of_this_machines_git_configuration(tmp_path, buildpack_repo, monkeypatch):
    """A URL rewrite in the global config would send the clone elsewhere (here: to a local
    repo); under the rules git reads no global or system configuration."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[url "file://{buildpack_repo}"]\n\tinsteadOf = http://buildpacks.test:9/bp.git\n'
    )
    monkeypatch.setenv("HOME", str(home))
    url = "http://buildpacks.test:9/bp.git"
    with pytest.raises(GitError):
        gitrepo.fetch_tree(url, "", tmp_path / "out", urls.destination(url, TEST_POLICY))
    gitrepo.fetch_tree(url, "", tmp_path / "trusted")  # an admin's fetch keeps the machine's config
    assert (tmp_path / "trusted" / "bin" / "compile").is_file()


def test_a_pinned_clone_sends_none_of_this_machines_credentials(tmp_path, monkeypatch):
    """`git:auth` writes the dokku user's ~/.netrc: a tenant's buildpack on a private server
    must not be fetched with it (git's libcurl reads $HOME/.netrc), nor go through its proxy."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with RecordingServer(ALLOWED, challenge=True) as server:
        (home / ".netrc").write_text("machine buildpacks.test login admin password admin-token\n")
        url = server.url("/bp.git", host="buildpacks.test")
        with pytest.raises(GitError, match="401|Authentication|could not read Username"):
            gitrepo.fetch_tree(url, "", tmp_path / "out", urls.destination(url, TEST_POLICY))
        (home / ".netrc").write_text(f"machine {ALLOWED} login admin password admin-token\n")
        with pytest.raises(GitError):
            gitrepo.fetch_tree(url, "", tmp_path / "out", urls.destination(url, TEST_POLICY))
    assert server.requests, "the server was asked"
    assert server.authorizations == []


def test_a_pinned_clone_goes_through_none_of_this_machines_proxies(tmp_path, monkeypatch, buildpack_repo):
    """A proxy would look the name up again (and is one of the host's own services)."""
    bare = served_over_dumb_http(buildpack_repo)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    with RecordingServer("127.0.0.1") as proxy, RecordingServer(ALLOWED, folder=bare.parent) as server:
        for variable in ("http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(variable, proxy.url())
        url = server.url(f"/{bare.name}", host="buildpacks.test")
        gitrepo.fetch_tree(url, "main", tmp_path / "out", urls.destination(url, TEST_POLICY))
    assert (tmp_path / "out" / "bin" / "compile").is_file()
    assert proxy.connections == 0


# -- archive downloads under the rules ---------------------------------------------------------
def a_tarball() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("app/Procfile")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"web:"))
    return buffer.getvalue()


@pytest.fixture
def archive_folder(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "app.tar").write_bytes(a_tarball())
    return tmp_path / "files"


def test_a_tenant_download_from_the_hosts_loopback_is_refused_before_any_request(archive_folder):
    with RecordingServer("127.0.0.1", folder=archive_folder) as service:
        with pytest.raises(ValidationError, match="127.0.0.1, a loopback address"):
            archives.download(service.url("/app.tar"), urls.TENANT)
        with pytest.raises(ValidationError, match="localhost is 127.0.0.1"):
            archives.download(service.url("/app.tar", host="localhost"), urls.TENANT)
    assert service.requests == []


def test_a_pinned_download_connects_to_the_checked_address_and_sends_the_name(archive_folder):
    with RecordingServer(ALLOWED, folder=archive_folder) as server:
        data = archives.download(server.url("/app.tar", host="archive.test"), TEST_POLICY)
    assert data == a_tarball()
    assert server.requests == [f"GET /app.tar archive.test:{server.port}"]


def test_a_redirect_to_the_hosts_own_services_is_checked_and_refused(archive_folder):
    with RecordingServer("127.0.0.1", folder=archive_folder) as service:
        with RecordingServer(ALLOWED, redirect_to=service.url("/app.tar")) as server:
            with pytest.raises(ValidationError, match="127.0.0.1, not the test server"):
                archives.download(server.url("/app.tar", host="archive.test"), TEST_POLICY)
        assert len(server.requests) == 1
    assert service.requests == []


def test_a_redirect_to_a_scheme_other_than_http_is_refused():
    with RecordingServer(ALLOWED, redirect_to="file:///etc/passwd") as server:
        with pytest.raises(ValidationError, match="give an http"):
            archives.download(server.url("/a.tgz", host="archive.test"), TEST_POLICY)


def test_endless_redirects_stop(tmp_path):
    with RecordingServer(ALLOWED, redirect_to="/again") as server:
        with pytest.raises(NotFound, match=f"more than {archives.MAX_REDIRECTS} redirects"):
            archives.download(server.url("/a.tgz", host="archive.test"), TEST_POLICY)
    assert len(server.requests) == archives.MAX_REDIRECTS + 1


def test_an_admins_download_may_come_from_loopback_and_follow_redirects(archive_folder):
    with RecordingServer("127.0.0.1", folder=archive_folder) as service:
        with RecordingServer(ALLOWED, redirect_to=service.url("/app.tar")) as server:
            assert archives.download(server.url("/start"), None) == a_tarball()
    assert len(service.requests) == 1
