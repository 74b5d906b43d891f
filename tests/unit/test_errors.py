"""Server text in errors: one printable line, however hostile; wrong-typed tenant cache entries ignored;
continuations that are not text refused."""
import json

import pytest

from azext_devopstoken import _errors, _tenant
from azext_devopstoken._pages import _check_continuation
from azext_devopstoken._paging import Next


@pytest.mark.parametrize("message, shown", [
    ({"text": "x", "n": [1, 2]}, '{"text":"x","n":[1,2]}'),
    (["a", 1], '["a",1]'),
    (12345, "12345"),
    ("Bad \x1b]0;owned\x07\x1b[31mred\x1b[0m\r\nline\u202e two", "Bad ]0;owned[31mred[0m line two"),
])
def test_one_line_makes_any_message_printable(message, shown):
    assert _errors.one_line(message) == shown


def test_one_line_cuts_megabytes():
    shown = _errors.one_line("word " * 1_000_000)
    assert len(shown) == _errors.MESSAGE_LIMIT + 1 and shown.endswith("…")


class _Response:
    def __init__(self, body):
        self.body = body

    def json(self):
        return json.loads(self.body)


def test_server_message_of_deep_json_is_none():
    assert _errors.server_message(_Response("[" * 100_000 + "]" * 100_000)) is None


class _Ctx:
    class config:  # noqa: N801  (mimics cli_ctx.config)
        config_dir = None


def test_tenant_cache_keeps_only_well_formed_entries(tmp_path):
    ctx = _Ctx()
    ctx.config.config_dir = str(tmp_path)
    (tmp_path / "devops-token").mkdir()
    good = {"tenant": "t", "expires": 4_000_000_000}
    (tmp_path / "devops-token" / "tenants.json").write_text(json.dumps({
        "https://a": good, "https://b": {"tenant": ["t"], "expires": 4_000_000_000},
        "https://c": {"tenant": "t", "expires": "later"}, "https://d": [1], "https://e": {"tenant": "t",
                                                                                          "expires": True}}))
    assert _tenant.cached_tenant(ctx, "https://a") == (True, "t")
    for url in ("https://b", "https://c", "https://d", "https://e"):
        assert _tenant.cached_tenant(ctx, url) == (False, None)
    _tenant.store_tenant(ctx, "https://f", None)
    assert set(json.loads((tmp_path / "devops-token" / "tenants.json").read_text())) == {"https://a", "https://f"}


@pytest.mark.parametrize("following", [Next(token={"a": 1}), Next(token=["a"]), Next(token=5),
                                       Next(link={"href": "https://x"})])
def test_continuations_that_are_not_text_are_refused(following):
    from azure.cli.core.azclierror import AzureResponseError
    with pytest.raises(AzureResponseError, match="not text"):
        _check_continuation(following, 2)
