import pytest

from minidokku.errors import ValidationError
from minidokku.routing import domains
from minidokku.state import Store


def make_apps(store: Store, *apps: str) -> None:
    """Apps as the store knows them: a folder with a HEAD file (a bare repository)."""
    for app in apps:
        store.write(app, "HEAD", "ref: refs/heads/master\n")


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path)


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("example.com", "example.com"),
        ("*.example.com", "*.example.com"),
        ("*.localhost", "*.localhost"),
        ("  App.Example.COM ", "app.example.com"),
        ("localhost", "localhost"),
        ("a-b.c-d.io", "a-b.c-d.io"),
        ("1.2.3.4", "1.2.3.4"),
        ("3com.example", "3com.example"),
        ("x" * 63 + ".com", "x" * 63 + ".com"),
        (".".join(["a" * 62] * 4) + ".a", ".".join(["a" * 62] * 4) + ".a"),  # 253 characters
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
        "*",
        "*.",
        "*example.com",
        "**.example.com",
        "a.*.example.com",
        "www.example.*",
        "*.1.2.3.4",
        "_",
        "under_score.com",
        "x" * 64 + ".com",
        ".".join(["a" * 62] * 4) + ".ab",  # 254 characters
        ".".join(["a" * 60] * 5),
        "",
        "1.2.3",
        "999.1.1.1",
        "01.2.3.4",
        "example.123",
        "::1",
        "[::1]",
        "example.com;",
        "example.com\nserver_name evil",
        "ex/ample.com",
        "caf\u00e9.com",
        "\u0661.com",  # an Arabic-Indic digit: str.isdigit() says yes, DNS says no
    ],
)
def test_bad_domains_are_refused(domain):
    with pytest.raises(ValidationError, match="invalid domain"):
        domains.validate(domain)


def test_a_global_domain_cannot_be_a_wildcard(store):
    with pytest.raises(ValidationError, match="no wildcard"):
        domains.set_global(store, ["*.example.com"])
    assert domains.global_domains(store) == []


# -- default names -------------------------------------------------------------------------
def test_app_domains_default_to_the_app_under_each_global_domain(store):
    domains.set_global(store, ["example.com", "Example.org"])
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com", "catmeow.example.org"]


def test_a_global_ip_address_gives_no_default_name(store):
    domains.set_global(store, ["10.0.0.5", "example.com"])
    assert domains.global_domains(store) == ["10.0.0.5", "example.com"]
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com"]
    domains.remove_global(store, ["example.com"])
    assert domains.app_domains(store, "catmeow") == []


def test_app_without_any_domain_has_none(store):
    assert domains.app_domains(store, "catmeow") == []


def test_own_domains_replace_the_global_default(store):
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["cat.io", "www.cat.io", "CAT.io"])
    assert domains.app_domains(store, "catmeow") == ["cat.io", "www.cat.io"]
    domains.remove_app(store, "catmeow", ["cat.io", "www.cat.io"])
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com"]


def test_set_replaces_and_clear_goes_back_to_the_defaults(store, tmp_path):
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["cat.io"])
    domains.set_app(store, "catmeow", ["*.cat.io", "cat.io"])
    assert domains.own_domains(store, "catmeow") == ["*.cat.io", "cat.io"]
    assert (tmp_path / "catmeow" / "VHOST").read_text() == "*.cat.io\ncat.io\n"
    domains.clear_app(store, "catmeow")
    assert not (tmp_path / "catmeow" / "VHOST").exists()
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com"]


def test_add_global_keeps_existing_and_refuses_bad_input_without_writing(store):
    domains.add_global(store, ["example.com"])
    domains.add_global(store, ["example.org", "example.com"])
    assert domains.global_domains(store) == ["example.com", "example.org"]
    with pytest.raises(ValidationError):
        domains.add_global(store, ["ok.net", "bad domain"])
    assert domains.global_domains(store) == ["example.com", "example.org"]


def test_remove_and_clear_global(store):
    domains.set_global(store, ["example.com", "example.org", "example.net"])
    domains.remove_global(store, ["EXAMPLE.org", "not-there.com"])
    assert domains.global_domains(store) == ["example.com", "example.net"]
    domains.clear_global(store)
    assert domains.global_domains(store) == []
    assert domains.app_domains(store, "catmeow") == []


# -- enable / disable ----------------------------------------------------------------------
def test_a_disabled_app_has_no_domains_and_gets_them_back_when_enabled(store, tmp_path):
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["cat.io"])
    assert domains.is_enabled(store, "catmeow")
    domains.disable(store, "catmeow")
    assert not domains.is_enabled(store, "catmeow")
    assert domains.app_domains(store, "catmeow") == []
    assert domains.configured_domains(store, "catmeow") == ["cat.io"]
    assert (tmp_path / "catmeow" / "properties" / "domains").read_text() == "export NO_VHOST='1'\n"
    domains.enable(store, "catmeow")
    assert domains.app_domains(store, "catmeow") == ["cat.io"]


def test_a_disabled_app_without_own_domains_gets_its_defaults_back(store):
    domains.set_global(store, ["example.com"])
    domains.disable(store, "catmeow")
    assert domains.app_domains(store, "catmeow") == []
    domains.enable(store, "catmeow")
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.com"]


# -- one domain, one app -------------------------------------------------------------------
def test_a_domain_another_app_has_is_refused_naming_that_app(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.add_app(store, "catmeow", ["cat.io"])
    with pytest.raises(ValidationError, match="cat.io is already a domain of app catmeow"):
        domains.add_app(store, "dogwoof", ["dog.io", "Cat.io"])
    with pytest.raises(ValidationError, match="app catmeow"):
        domains.set_app(store, "dogwoof", ["cat.io"])
    assert domains.own_domains(store, "dogwoof") == []


def test_another_apps_default_name_is_refused(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.set_global(store, ["example.com"])
    with pytest.raises(ValidationError, match="catmeow.example.com is already a domain of app catmeow"):
        domains.add_app(store, "dogwoof", ["catmeow.example.com"])


def test_a_disabled_apps_domains_stay_its_own(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.add_app(store, "catmeow", ["cat.io"])
    domains.disable(store, "catmeow")
    with pytest.raises(ValidationError, match="app catmeow"):
        domains.add_app(store, "dogwoof", ["cat.io"])


def test_an_app_may_give_itself_its_own_default_name_and_repeat_its_domains(store):
    make_apps(store, "catmeow")
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["catmeow.example.com", "cat.io"])
    domains.set_app(store, "catmeow", ["cat.io", "catmeow.example.com"])
    assert domains.own_domains(store, "catmeow") == ["cat.io", "catmeow.example.com"]


def test_a_domain_is_free_again_once_removed(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.add_app(store, "catmeow", ["cat.io"])
    domains.remove_app(store, "catmeow", ["cat.io"])
    domains.add_app(store, "dogwoof", ["cat.io"])
    assert domains.own_domains(store, "dogwoof") == ["cat.io"]


def test_an_app_named_like_another_apps_domain_prefix_is_fine(store):
    make_apps(store, "www", "catmeow")
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["www.cat.io"])
    assert domains.app_domains(store, "www") == ["www.example.com"]
    assert domains.app_domains(store, "catmeow") == ["www.cat.io"]


def test_a_wildcard_and_a_name_under_it_may_belong_to_two_apps(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.add_app(store, "catmeow", ["*.example.com"])
    domains.add_app(store, "dogwoof", ["dog.example.com"])  # nginx prefers the exact name
    assert domains.own_domains(store, "dogwoof") == ["dog.example.com"]


def test_falling_back_to_a_default_another_app_has_is_refused(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.set_global(store, ["example.com"])
    domains.add_app(store, "catmeow", ["cat.io"])
    domains.add_app(store, "dogwoof", ["catmeow.example.com"])
    with pytest.raises(ValidationError, match="catmeow.example.com is already a domain of app dogwoof"):
        domains.clear_app(store, "catmeow")
    with pytest.raises(ValidationError, match="app dogwoof"):
        domains.remove_app(store, "catmeow", ["cat.io"])
    assert domains.own_domains(store, "catmeow") == ["cat.io"]


def test_a_global_domain_that_would_hand_out_another_apps_domain_is_refused(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.add_app(store, "dogwoof", ["catmeow.example.com"])
    with pytest.raises(ValidationError, match="would give app catmeow the domain catmeow.example.com"):
        domains.add_global(store, ["example.org", "example.com"])
    assert domains.global_domains(store) == []
    domains.add_app(store, "catmeow", ["cat.io"])  # with its own domains, catmeow has no default
    domains.set_global(store, ["example.com"])
    assert domains.global_domains(store) == ["example.com"]


def test_default_names_of_two_apps_never_collide(store):
    make_apps(store, "catmeow", "dogwoof")
    domains.set_global(store, ["example.com", "example.org"])
    domains.set_global(store, ["example.net"])
    assert domains.app_domains(store, "catmeow") == ["catmeow.example.net"]
    assert domains.app_domains(store, "dogwoof") == ["dogwoof.example.net"]


# -- what a user key may claim -----------------------------------------------------------------
@pytest.fixture
def tenants(store) -> Store:
    """victim (an admin's) with its default name and a domain of its own, and tenant (a user's)."""
    make_apps(store, "victim", "tenant", "corp")
    domains.set_global(store, ["example.test"])
    domains.add_app(store, "corp", ["*.corp.test", "corp.example.test"])
    return store


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("victim.example.test", "victim.example.test is a domain of app victim"),
        ("x.victim.example.test", "x.victim.example.test is under app victim's domain victim.example.test"),
        ("*.victim.example.test", "covers the names under app victim's domain victim.example.test"),
        ("example.test", "example.test is the global domain example.test"),
        ("*.example.test", "*.example.test covers the global domain example.test"),
        ("*.test", "*.test covers the global domain example.test"),
        ("other.example.test", "is under the global domain example.test, where tenant has tenant.example.test"),
        ("a.b.example.test", "is under the global domain example.test"),
        ("x.corp.test", "x.corp.test is under app corp's domain *.corp.test"),
        ("corp.test", "corp.test overlaps app corp's domain *.corp.test"),
        ("*.corp.test", "*.corp.test is a domain of app corp"),
    ],
)
def test_a_user_key_claims_no_name_another_app_or_the_global_domain_has_or_covers(tenants, name, problem):
    for change in (domains.add_app, domains.set_app):
        with pytest.raises(ValidationError) as refused:
            change(tenants, "tenant", [name], by_user_key=True)
        assert problem in str(refused.value)
        assert "a user key claims only names no other app has or covers" in str(refused.value)
    assert domains.own_domains(tenants, "tenant") == []


@pytest.mark.parametrize(
    "name", ["tenant.example.test", "api.tenant.example.test", "*.tenant.example.test", "tenant.io", "*.tenant.io"]
)
def test_a_user_key_claims_its_default_name_names_under_it_and_names_nobody_has(tenants, name):
    domains.add_app(tenants, "tenant", [name], by_user_key=True)
    assert domains.own_domains(tenants, "tenant") == [name]


def test_a_user_wildcard_over_another_apps_name_is_refused(tenants):
    domains.add_app(tenants, "victim", ["shop.victim.io"])
    with pytest.raises(ValidationError, match=r"\*.victim.io covers app victim's domain shop.victim.io"):
        domains.add_app(tenants, "tenant", ["*.victim.io"], by_user_key=True)
    domains.add_app(tenants, "tenant", ["victim.io"], by_user_key=True)  # the parent name alone covers nothing


def test_a_user_key_keeps_the_names_an_admin_gave_its_app(tenants):
    domains.add_app(tenants, "tenant", ["tenant.example.test", "shop.example.test"])  # by an admin
    domains.set_app(tenants, "tenant", ["shop.example.test", "tenant.io"], by_user_key=True)
    assert domains.own_domains(tenants, "tenant") == ["shop.example.test", "tenant.io"]


def test_admins_keep_their_freedom(tenants):
    domains.add_app(tenants, "tenant", ["*.example.test", "x.victim.example.test", "other.example.test"])
    assert domains.own_domains(tenants, "tenant") == ["*.example.test", "x.victim.example.test", "other.example.test"]
