"""Paging shapes through the real az (issue 9, item 2) and throttling as the service does it (item 5)."""
import json

from az_support import devops_requests, error_lines

PULL_REQUESTS = "{project}/_apis/git/repositories/Website/pullrequests"


def call(env, emulator, *args):
    return env.az("devops-rest", "call", "--org", emulator.org_url("contoso"), *args)


def ok_json(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_user_entitlements_follow_the_body_token(sp_env, emulator, devops):
    document = ok_json(call(sp_env, emulator, "--service", "vsaex", "--path", "_apis/userentitlements",
                            "--paginate", "-o", "json"))
    assert len(document["items"]) == document["totalCount"] == len({i["id"] for i in document["items"]}) > 100
    assert document["continuationToken"] is None
    pages = [e for e in devops_requests(emulator) if e["listener"] == "vsaex"]
    assert len(pages) == 2 and "continuationtoken" in {k.lower() for k in pages[1]["query"]}


def test_odata_feed_follows_next_link_without_api_version(sp_env, emulator, devops):
    document = ok_json(call(sp_env, emulator, "-p", "Website", "--path", "{project}/_odata/v4.0-preview/WorkItems",
                            "--paginate", "-o", "json"))
    assert len(document["value"]) == 250 and "@odata.nextLink" not in document
    pages = devops_requests(emulator)
    assert len(pages) == 3 and all("api-version" not in e["query"] for e in pages)


def test_pull_requests_follow_skip_until_a_short_page(sp_env, emulator, devops):
    document = ok_json(call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--paginate", "-o", "json"))
    ids = [pr["pullRequestId"] for pr in document["value"]]
    assert ids == list(range(130, 0, -1)) and document["count"] == 130
    assert [e["query"].get("$skip") for e in devops_requests(emulator)] == [None, ["100"]]
    with_top = ok_json(call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--query-parameters",
                            "$top=50", "--paginate", "--query", "length(value)"))
    assert with_top == 130


def test_a_full_page_without_paginate_warns(sp_env, emulator, devops):
    result = call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--query", "count")
    assert result.returncode == 0 and result.stdout.strip() == "100"
    assert "there may be more results; add --paginate" in result.stderr
    short = call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--query-parameters", "$skip=100",
                 "--query", "count")
    assert short.stdout.strip() == "30" and "WARNING" not in short.stderr


def test_delay_mode_200_retry_after_is_honoured_before_the_next_page(sp_env, emulator, devops):
    devops.add_fault("delay", path="pullrequests", retry_after=1, delay=0.1)
    result = call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--paginate", "--query",
                  "length(value)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "130"
    assert "asks to wait 1.0 s before the next one" in result.stderr
    first, second = devops_requests(emulator)
    assert second["time"] - first["time"] >= 1.0


def test_an_html_429_is_still_a_429(sp_env, emulator, devops):
    devops.add_fault("throttle", path="_apis/projects", html=True, retry_after=0)
    retried = call(sp_env, emulator, "--path", "_apis/projects", "--query", "count")
    assert retried.returncode == 0 and retried.stdout.strip() == "100"
    assert "429" in retried.stderr and "retrying" in retried.stderr
    devops.add_fault("throttle", path="_apis/projects", html=True, retry_after=0, count=None)
    refused = call(sp_env, emulator, "--path", "_apis/projects", "--max-retries", "0")
    assert refused.returncode == 1
    (line,) = error_lines(refused.stderr)
    assert "429" in line and "<" not in line
