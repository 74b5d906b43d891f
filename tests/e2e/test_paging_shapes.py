"""Paging shapes through the real az (issue 9, item 2), throttling as the service does it (item 5), and pages
fetched several at a time with --paginate --parallel N (issue 13)."""
import json

from az_support import devops_call as call, devops_requests, error_lines, max_in_flight, ok_json

PULL_REQUESTS = "{project}/_apis/git/repositories/Website/pullrequests"


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


# -- --paginate --parallel N (issue 13) ---------------------------------------------------------------------------
def _query(entry, name):
    return (entry["query"].get(name) or [None])[0]


def test_parallel_pages_of_projects_are_the_same_result_n_at_a_time(sp_env, emulator, devops):
    # 10,000 projects in pages of 1,000: the projects list's continuation token counts the projects fetched, so
    # the tokens of the pages ahead are known; each request takes at least 250 ms, so the peak can be read back.
    devops.set_latency(250)
    outputs = {}
    for parallel in ("1", "4"):
        emulator.log.clear()
        result = call(sp_env, emulator, "--path", "_apis/projects", "--query-parameters", "$top=1000", "--paginate",
                      "--parallel", parallel, "-o", "json", org="bigorg")
        outputs[parallel] = ok_json(result)
        entries = devops_requests(emulator)
        tokens = [_query(e, "continuationToken") for e in entries]
        assert {None, *(str(n) for n in range(1000, 10000, 1000))} <= set(tokens) and len(set(tokens)) == len(tokens)
        assert max_in_flight(entries, 0.25) == int(parallel)
        assert len({e["connection_id"] for e in entries}) <= int(parallel)   # kept alive: one per page in flight
        assert len(entries) <= 10 + int(parallel) - 1   # past the end: at most N-1 pages for nothing
    assert outputs["4"] == outputs["1"]
    names = [p["name"] for p in outputs["1"]["value"]]
    assert outputs["1"]["count"] == len(names) == len(set(names)) == 10000


def test_parallel_pull_requests_by_skip_and_the_dry_run(sp_env, emulator, devops):
    args = ("-p", "Website", "--path", PULL_REQUESTS, "--query-parameters", "$top=20", "--paginate", "-o", "json")
    one = ok_json(call(sp_env, emulator, *args))
    emulator.log.clear()
    four = ok_json(call(sp_env, emulator, *args, "--parallel", "4"))
    assert four == one and [pr["pullRequestId"] for pr in four["value"]] == list(range(130, 0, -1))
    skips = [_query(e, "$skip") for e in devops_requests(emulator)]
    assert {None, *(str(n) for n in range(20, 140, 20))} <= set(skips) and len(set(skips)) == len(skips) <= 7 + 3
    emulator.log.clear()
    dry = ok_json(call(sp_env, emulator, *args, "--parallel", "4", "--dry-run"))
    assert dry["paginate"] is True and dry["parallel"] == 4 and "%24top=20" in dry["url"]
    assert devops_requests(emulator, probes=True) == []


def test_parallel_needs_paginate_and_a_bounded_number(sp_env, emulator, devops):
    for args, message in ((["--parallel", "4"], "--parallel applies to --paginate"),
                          (["--paginate", "--parallel", "64"], "--parallel must be between 1 and 32; got 64.")):
        result = call(sp_env, emulator, "--path", "_apis/projects", *args)
        assert result.returncode == 1 and result.stdout == ""
        (line,) = error_lines(result.stderr)
        assert message in line
    assert devops_requests(emulator, probes=True) == []


def test_an_error_on_one_page_fetched_ahead_is_one_error_and_no_output(sp_env, emulator, devops):
    devops.add_fault("error", path="pullrequests", query=r"(%24|\$)skip=60(&|$)", status=500, count=None)
    result = call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--query-parameters", "$top=20",
                  "--paginate", "--parallel", "4")
    assert result.returncode == 1
    assert "value" not in json.loads(result.stdout)   # the failed page's error document (as always), no pages
    (line,) = error_lines(result.stderr)
    assert "500" in line and "Traceback" not in result.stderr
    assert len(devops_requests(emulator)) <= 4 + 3   # pages 1-4, and at most 3 more that were in flight


def test_a_429_on_one_page_holds_every_page_in_flight(sp_env, emulator, devops):
    devops.set_latency(100)
    devops.add_fault("throttle", path="pullrequests", query=r"(%24|\$)skip=40(&|$)", retry_after=2)
    result = call(sp_env, emulator, "-p", "Website", "--path", PULL_REQUESTS, "--query-parameters", "$top=10",
                  "--paginate", "--parallel", "4", "--query", "value[].pullRequestId")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == list(range(130, 0, -1))
    entries = devops_requests(emulator)
    throttled_at = next(e["time"] for e in entries if e["status"] == 429)
    after = [e["time"] for e in entries if e["time"] > throttled_at + 0.2]
    assert after and min(after) >= throttled_at + 1.9   # nobody started during the Retry-After of 2 s
    assert "429" in result.stderr and "retrying" in result.stderr
