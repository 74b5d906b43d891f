import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError, RequiredArgumentMissingError

from azext_devopstoken import _org


@pytest.mark.parametrize("value, url, name, kind", [
    ("contoso", "https://dev.azure.com/contoso", "contoso", "dev.azure.com"),
    ("https://dev.azure.com/contoso", "https://dev.azure.com/contoso", "contoso", "dev.azure.com"),
    ("https://dev.azure.com/contoso/", "https://dev.azure.com/contoso", "contoso", "dev.azure.com"),
    ("https://contoso.visualstudio.com", "https://contoso.visualstudio.com", "contoso", "visualstudio.com"),
    ("https://contoso.visualstudio.com/DefaultCollection", "https://contoso.visualstudio.com", "contoso",
     "visualstudio.com"),
    ("https://tfs.example.com/tfs/DefaultCollection", "https://tfs.example.com/tfs/DefaultCollection",
     "DefaultCollection", "server"),
    ("https://127.0.0.1:8443/contoso", "https://127.0.0.1:8443/contoso", "contoso", "server"),
])
def test_parse_organization_forms(value, url, name, kind):
    org = _org.parse_organization(value)
    assert (org.url, org.name, org.kind) == (url, name, kind)


@pytest.mark.parametrize("value, fragment", [
    ("http://dev.azure.com/contoso", "uses http"),
    ("dev.azure.com/contoso", "neither an organization name nor an https URL"),
    ("ftp://x/y", "neither an organization name nor an https URL"),
    ("https://dev.azure.com/contoso/Project", "is not an organization URL"),
    ("https://dev.azure.com/", "is not an organization URL"),
    ("https://dev.azure.com/contoso?x=1", "must not carry a query"),
    ("-bad-", "neither an organization name"),
])
def test_parse_organization_rejects_with_the_option_named(value, fragment):
    with pytest.raises(InvalidArgumentValueError) as info:
        _org.parse_organization(value)
    assert fragment in str(info.value) and "--org" in str(info.value)


def test_service_urls_for_each_kind():
    assert _org.parse_organization("contoso").service_url("vssps") == "https://vssps.dev.azure.com/contoso"
    assert _org.parse_organization("https://contoso.visualstudio.com").service_url("vsrm") == \
        "https://contoso.vsrm.visualstudio.com"
    assert _org.parse_organization("https://tfs.example.com/tfs/C").service_url("vssps") is None


@pytest.mark.parametrize("url, owned", [
    ("https://dev.azure.com/contoso/_apis/projects", True),
    ("https://dev.azure.com/CONTOSO/_apis/projects", True),
    ("https://dev.azure.com/contoso", True),
    ("https://dev.azure.com/contosoevil/_apis", False),
    ("https://dev.azure.com/fabrikam/_apis/projects", False),
    ("http://dev.azure.com/contoso/_apis/projects", False),
    ("https://vssps.dev.azure.com/contoso/_apis/graph/users", True),
    ("https://vssps.dev.azure.com/fabrikam/_apis/graph/users", False),
    ("https://evil.example/contoso", False),
    ("https://dev.azure.com.evil.example/contoso", False),
])
def test_owns_only_the_organizations_urls(url, owned):
    assert _org.parse_organization("contoso").owns(url) is owned


def test_server_org_owns_only_its_collection_and_learned_bases():
    org = _org.parse_organization("https://127.0.0.1:8443/contoso")
    assert org.owns("https://127.0.0.1:8443/contoso/_apis/projects")
    assert not org.owns("https://127.0.0.1:8443/fabrikam/_apis/projects")
    assert not org.owns("https://127.0.0.1:9443/contoso/_apis/graph")
    assert org.owns("https://127.0.0.1:9443/contoso/_apis/graph", ["https://127.0.0.1:9443/contoso"])


class _Ctx:
    class config:  # noqa: N801  (mimics cli_ctx.config)
        config_dir = None

        @staticmethod
        def get(_section, _option, fallback=None):
            return fallback


def test_defaults_from_the_azure_devops_extension(tmp_path, monkeypatch):
    (tmp_path / "azuredevops").mkdir()
    (tmp_path / "azuredevops" / "config").write_text(
        "[defaults]\norganization = https://dev.azure.com/fabrikam/\nproject = Web\n")
    ctx = _Ctx()
    ctx.config.config_dir = str(tmp_path)
    monkeypatch.delenv("AZURE_DEVOPS_EXT_CONFIG_DIR", raising=False)
    assert _org.resolve_organization(ctx).url == "https://dev.azure.com/fabrikam"
    assert _org.resolve_project(ctx) == "Web"
    assert _org.resolve_organization(ctx, "contoso").url == "https://dev.azure.com/contoso"
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "config").write_text("[defaults]\norganization = northwind\n")
    monkeypatch.setenv("AZURE_DEVOPS_EXT_CONFIG_DIR", str(other))
    assert _org.resolve_organization(ctx).name == "northwind"


def test_no_organization_names_every_way_to_set_one(tmp_path, monkeypatch):
    monkeypatch.delenv("AZURE_DEVOPS_EXT_CONFIG_DIR", raising=False)
    ctx = _Ctx()
    ctx.config.config_dir = str(tmp_path)
    with pytest.raises(RequiredArgumentMissingError) as info:
        _org.resolve_organization(ctx)
    text = str(info.value) + " ".join(info.value.recommendations)
    for way in ("--org", "defaults.devops_organization", "AZURE_DEFAULTS_DEVOPS_ORGANIZATION",
                "az devops configure --defaults organization="):
        assert way in text


def test_origin_names_where_the_organization_came_from(tmp_path, monkeypatch):
    ctx = _Ctx()
    ctx.config.config_dir = str(tmp_path)
    monkeypatch.delenv("AZURE_DEVOPS_EXT_CONFIG_DIR", raising=False)
    assert _org.resolve_organization(ctx, "contoso").origin == "--org"
    (tmp_path / "azuredevops").mkdir()
    (tmp_path / "azuredevops" / "config").write_text("[defaults]\norganization = https://tfs.example.com/c\n")
    assert _org.resolve_organization(ctx).origin == "the azure-devops default organization"
