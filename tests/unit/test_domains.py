import pytest

from minidokku import domains
from minidokku.errors import ValidationError
from minidokku.state import Store


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("example.com", "example.com"),
        ("*.example.com", "*.example.com"),
        ("  App.Example.COM ", "app.example.com"),
        ("localhost", "localhost"),
        ("a-b.c-d.io", "a-b.c-d.io"),
        ("1.2.3.4", "1.2.3.4"),
        ("x" * 63 + ".com", "x" * 63 + ".com"),
    ],
)
def test_good_domains_are_normalised(domain, expected):
    assert domains.validate(domain) == expected


@pytest.mark.parametrize(
    "domain",
    [
        "exa mple.com",
        "-bad.com",
        "bad-.com",
        "a..b",
        ".example.com",
        "example.com.",
        "*example.com",
        "a.*.example.com",
        "under_score.com",
        "x" * 64 + ".com",
        ".".join(["a" * 60] * 5),
        "",
        "example.com;",
        "example.com\nserver_name evil",
        "ex/ample.com",
    ],
)
def test_bad_domains_are_refused(domain):
    with pytest.raises(ValidationError):
        domains.validate(domain)


def test_app_domains_default_to_the_app_under_each_global_domain(tmp_path):
    store = Store(tmp_path)
    domains.set_global(store, ["example.com", "Example.org"])
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com", "catmeow.example.org"]


def test_app_without_any_domain_has_none(tmp_path):
    assert domains.app_domains(Store(tmp_path), "catmeow") == []


def test_own_domains_replace_the_global_default(tmp_path):
    store = Store(tmp_path)
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["cat.io", "www.cat.io", "CAT.io"])
    assert domains.app_domains(store, "catmeow") == ["cat.io", "www.cat.io"]
    domains.remove_app(store, "catmeow", ["cat.io", "www.cat.io"])
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com"]


def test_add_global_keeps_existing_and_refuses_bad_input_without_writing(tmp_path):
    store = Store(tmp_path)
    domains.add_global(store, ["example.com"])
    domains.add_global(store, ["example.org", "example.com"])
    assert domains.global_domains(store) == ["example.com", "example.org"]
    with pytest.raises(ValidationError):
        domains.add_global(store, ["ok.net", "bad domain"])
    assert domains.global_domains(store) == ["example.com", "example.org"]
