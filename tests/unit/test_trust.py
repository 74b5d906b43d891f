"""The trust rule: the Entra token goes only to Azure DevOps Services hosts and hosts trusted by name; no look-alike
is ever trusted, and whatever is trusted is the host requests really connects to."""
import pytest
import requests
from azure.cli.core.azclierror import InvalidArgumentValueError, ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from knack.config import CLIConfig
from urllib3.util import parse_url

from azext_devopstoken import _trust
from azext_devopstoken._trust import (ENV_VAR, check_token_destination, is_services_host, is_trusted,
                                      parse_trusted_hosts, split_url, trusted_hosts)

SERVICES = [
    "https://dev.azure.com/contoso",
    "https://dev.azure.com:443/contoso/_apis/projects",
    "https://DEV.Azure.COM./contoso",
    "https://contoso.visualstudio.com",
    "https://contoso.visualstudio.com/DefaultCollection/_apis",
    "https://vssps.dev.azure.com/contoso/_apis/graph/users",
    "https://vsrm.dev.azure.com/contoso",
    "https://feeds.dev.azure.com/contoso", "https://pkgs.dev.azure.com/contoso",
    "https://almsearch.dev.azure.com/contoso", "https://analytics.dev.azure.com/contoso",
    "https://vsaex.dev.azure.com/contoso", "https://auditservice.dev.azure.com/contoso",
    "https://vstmr.dev.azure.com/contoso", "https://extmgmt.dev.azure.com/contoso",
    "https://app.vssps.dev.azure.com/_apis/profile/profiles/me",
    "https://contoso.vssps.visualstudio.com", "https://contoso.vsrm.visualstudio.com",
    "https://contoso.vstmr.visualstudio.com", "https://contoso.pkgs.visualstudio.com",
    "https://spsprodweu5.vssps.visualstudio.com/A1b2/",  # a resource-area answer on a scale unit
    "https://app.vssps.visualstudio.com/_apis/accounts",
]

LOOK_ALIKES = [
    "https://dev.azure.com.evil.example/contoso",
    "https://dev.azure.co/contoso",
    "https://dev-azure.com/contoso",
    "https://devazure.com/contoso",
    "https://evil.example/dev.azure.com/contoso",
    "https://dev.azure.com@evil.example/contoso",
    "https://user:pass@dev.azure.com/contoso",  # userinfo: never a place for the token
    "https://dev.azure.com\\@evil.example/",
    "https://dev%2eazure.com/contoso",
    "https://dev.azure.com%2f@evil.example/",
    "https://d\u0435v.azure.com/contoso",  # Cyrillic e
    "https://dev.\u0430zure.com/contoso",  # Cyrillic a
    "https://xn--dv-mlc.azure.com/contoso",
    "https://xn--contso-3of.visualstudio.com",  # punycode label under visualstudio.com
    "https://[::1]/contoso", "https://[2620:1ec:4::175]/",
    "https://127.0.0.1/contoso",
    "http://dev.azure.com/contoso",
    "https://dev.azure.com:8443/contoso",
    "https://dev.azure.com\n.evil.example/",
    "https://dev.azure.com /contoso",
    "https://visualstudio.com/",
    "https://a.b.c.visualstudio.com/",
    "https://contoso.evil.visualstudio.com/",
    "https://evil.dev.azure.com/",
    "https://evil.vssps.dev.azure.com/",
    "ftp://dev.azure.com/",
    "//dev.azure.com/contoso",
    "dev.azure.com",
    "",
]


@pytest.mark.parametrize("url", SERVICES)
def test_services_hosts_are_trusted(url):
    assert is_services_host(url) and is_trusted(url)


@pytest.mark.parametrize("url", LOOK_ALIKES)
def test_look_alikes_are_not_trusted(url):
    assert not is_services_host(url)
    assert not is_trusted(url, frozenset({("ado.example.com", 443), ("127.0.0.2", 443)}))


def test_trusted_hosts_parse_spaces_commas_ports_and_normalise():
    assert parse_trusted_hosts(" ADO.example.com., tfs.example.com:8443\t127.0.0.1:9 ,, b\u00fccher.example") == {
        ("ado.example.com", 443), ("tfs.example.com", 8443), ("127.0.0.1", 9), ("xn--bcher-kva.example", 443)}
    assert parse_trusted_hosts("") == frozenset() and parse_trusted_hosts(None) == frozenset()


@pytest.mark.parametrize("value", ["https://ado.example.com", "*.example.com", "[::1]:443", "ado.example.com:0",
                                   "ado.example.com:70000", "ado.example.com:x", "ado.example.com/tfs",
                                   "user@ado.example.com", "ado%2eexample.com"])
def test_malformed_trusted_entries_are_one_error_naming_them(value):
    with pytest.raises(InvalidArgumentValueError) as raised:
        parse_trusted_hosts("good.example " + value)
    assert repr(value) in raised.value.error_msg and "devops_token.trusted_hosts" in raised.value.error_msg


@pytest.mark.parametrize("url, trusted", [
    ("https://ado.example.com/tfs/DefaultCollection", True),
    ("https://ADO.example.com./tfs", True),
    ("https://ado.example.com:443/tfs", True),
    ("https://ado.example.com:8443/tfs", False),     # the entry gives no port: 443 only
    ("https://tfs.example.com:8443/", True),
    ("https://tfs.example.com/", False),             # the entry gives 8443
    ("https://ado.example.com.evil.example/", False),
    ("https://sub.ado.example.com/", False),         # by exact name, never a suffix
    ("http://ado.example.com/", False),
])
def test_trust_by_name_matches_host_and_port_exactly(url, trusted):
    assert is_trusted(url, parse_trusted_hosts("ado.example.com tfs.example.com:8443")) is trusted


class FakeCli:  # pylint: disable=too-few-public-methods
    def __init__(self, config):
        self.config = config


@pytest.fixture
def az_config(tmp_path, monkeypatch):
    """knack's CLIConfig with az's prefix, as az builds it (azure.cli.core: config_env_var_prefix='AZURE')."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))  # knack prefers it to config_dir
    monkeypatch.delenv("AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS", raising=False)  # tests/unit/conftest.py trusts a few
    return CLIConfig(config_dir=str(tmp_path), config_env_var_prefix="AZURE")


def test_setting_maps_to_the_documented_environment_variable(az_config):
    assert az_config.env_var_name("devops_token", "trusted_hosts") == ENV_VAR


def test_trusted_hosts_come_from_az_config(az_config):
    az_config.set_value("devops_token", "trusted_hosts", "ado.example.com, 127.0.0.1:8443")
    assert trusted_hosts(FakeCli(az_config)) == {("ado.example.com", 443), ("127.0.0.1", 8443)}


def test_the_environment_variable_wins_over_the_config_file(az_config, monkeypatch):
    az_config.set_value("devops_token", "trusted_hosts", "file.example")
    monkeypatch.setenv(ENV_VAR, "env.example:9443")
    assert trusted_hosts(FakeCli(az_config)) == {("env.example", 9443)}


def test_no_setting_trusts_nothing(az_config):
    assert trusted_hosts(FakeCli(az_config)) == frozenset()


def test_check_refuses_an_untrusted_host_naming_it_and_the_setting(az_config):
    with pytest.raises(ValidationError) as raised:
        check_token_destination(FakeCli(az_config), "https://dev.azure.com.evil.example/contoso")
    error = raised.value
    assert "dev.azure.com.evil.example" in error.error_msg and "devops_token.trusted_hosts" in error.error_msg
    assert "from --org" in error.error_msg
    assert "az config set devops_token.trusted_hosts=dev.azure.com.evil.example" in error.recommendations[0]


def test_check_names_the_port_and_the_source(az_config):
    with pytest.raises(ValidationError) as raised:
        check_token_destination(FakeCli(az_config), "https://127.0.0.1:8443/org/_apis", source="a nextLink")
    assert "127.0.0.1:8443 (from a nextLink)" in raised.value.error_msg
    assert "trusted_hosts=127.0.0.1:8443" in raised.value.recommendations[0]


def test_check_shows_an_unparsable_url_without_control_characters(az_config):
    with pytest.raises(ValidationError) as raised:
        check_token_destination(FakeCli(az_config), "https://dev.azure.com\x1b[2J@evil/")
    assert "\x1b" not in raised.value.error_msg and "\\x1b" in raised.value.error_msg


def test_check_accepts_services_hosts_without_reading_the_setting():
    class Exploding:  # pylint: disable=too-few-public-methods
        def get(self, *_args, **_kwargs):
            raise AssertionError("the setting was read")
    check_token_destination(FakeCli(Exploding()), "https://dev.azure.com/contoso")


def test_check_accepts_a_trusted_host(az_config, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "127.0.0.1:8443")
    check_token_destination(FakeCli(az_config), "https://127.0.0.1:8443/org")


# -- properties -----------------------------------------------------------------------------------------------

def connects_to(url):
    """(host, port) requests would open a connection to for ``url``, or None when it refuses the URL."""
    try:
        prepared = requests.Request("GET", url).prepare()
    except Exception:  # pylint: disable=broad-except
        return None
    parsed = parse_url(prepared.url)
    if parsed.scheme != "https" or not parsed.host:
        return None
    return parsed.host.lower().rstrip("."), parsed.port or 443


def is_services_domain(host):
    return host == "dev.azure.com" or host.endswith((".dev.azure.com", ".visualstudio.com"))


CONFUSABLES = {"a": ["a", "\u0430", "\u00e0", "A", "\uff41"], "e": ["e", "\u0435", "\u00e9"],
               "o": ["o", "\u043e", "0"], ".": [".", "\u3002", "\uff0e", "..", "-", "%2e"],
               "i": ["i", "\u0456", "1", "l"]}
PIECES = ["", ".", "@", "\\", "%2e", ":443", ":8443", "evil.example", ".evil.example", "evil.example@",
          "@evil.example", "#@evil.example", "?@evil.example", "/", "[::1]", "user:pw@", "\t", " ", "xn--", "-",
          "co", "m"]


def mangled(base):
    return st.lists(st.sampled_from(range(len(base))), max_size=3).flatmap(
        lambda positions: st.tuples(*[st.sampled_from(CONFUSABLES.get(base[p], [base[p]])) for p in positions])
        .map(lambda swaps: _swap(base, positions, swaps)))


def _swap(base, positions, swaps):
    chars = list(base)
    for position, replacement in zip(positions, swaps):
        chars[position] = replacement
    return "".join(chars)


HOSTS = st.sampled_from(["dev.azure.com", "contoso.visualstudio.com", "vssps.dev.azure.com",
                         "app.vssps.visualstudio.com", "ado.example.com"]).flatmap(mangled)
URLS = st.builds(lambda scheme, before, host, after, path: "%s://%s%s%s%s" % (scheme, before, host, after, path),
                 st.sampled_from(["https", "HTTPS", "http"]), st.sampled_from(PIECES), HOSTS,
                 st.sampled_from(PIECES), st.sampled_from(["", "/contoso", "/x/_apis?y=1"]))


@settings(max_examples=1500, deadline=None)
@given(URLS)
def test_whatever_is_trusted_is_where_requests_connects(url):
    """Differential: for any mangled URL that the rule trusts, the connection requests opens goes to an Azure
    DevOps Services host on 443, or to exactly the trusted (host, port)."""
    trusted = frozenset({("ado.example.com", 443)})
    if is_services_host(url):
        target = connects_to(url)
        assert target is not None and is_services_domain(target[0]) and target[1] == 443, (url, target)
        assert target == split_url(url)
    if is_trusted(url, trusted):
        target = connects_to(url)
        assert target is not None and (target in trusted or is_services_domain(target[0])), (url, target)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["dev.azure.com", "contoso.visualstudio.com", "vssps.dev.azure.com"]),
       st.lists(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), min_size=1, max_size=3))
def test_a_services_host_as_a_prefix_of_another_domain_is_never_trusted(host, labels):
    suffix = ".".join(labels)
    if suffix in ("com",) or (suffix + ".").startswith(("azure.com.", "visualstudio.com.")):
        return
    assert not is_services_host("https://%s.%s/contoso" % (host, suffix))


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_arbitrary_text_never_crashes_and_is_trusted_only_as_a_services_host(text):
    for url in (text, "https://" + text, "https://%s/x" % text):
        if is_services_host(url):
            assert is_services_domain(connects_to(url)[0])
        assert _trust.split_url(url) is None or isinstance(_trust.split_url(url)[1], int)
