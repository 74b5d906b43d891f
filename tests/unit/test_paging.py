from requests.structures import CaseInsensitiveDict

from azext_devopstoken._paging import Merger, Next, next_page


def test_next_from_header_any_casing():
    assert next_page(CaseInsensitiveDict({"X-MS-ContinuationToken": "abc"}), {"value": []}) == Next(token="abc")
    assert not next_page(CaseInsensitiveDict({"x-ms-continuationtoken": ""}), {"value": []})
    assert not next_page(CaseInsensitiveDict(), {"count": 1, "value": [1]})


def test_next_from_body_forms():
    headers = CaseInsensitiveDict()
    assert next_page(headers, {"continuationToken": "t", "hasMore": True}) == Next(token="t")
    assert not next_page(headers, {"continuationToken": "t", "hasMore": False})
    assert next_page(headers, {"nextLink": "https://h/x?c=1", "isLastBatch": False}) == Next(link="https://h/x?c=1")
    assert next_page(headers, {"continuationToken": "c", "isLastBatch": False}) == Next(token="c")
    assert not next_page(headers, {"nextLink": "https://h/x", "isLastBatch": True})


def test_merge_value_pages_keeps_shape_and_counts():
    merger = Merger()
    merger.add({"count": 2, "value": [1, 2]})
    merger.add({"count": 0, "value": []})
    merger.add({"count": 1, "value": [3]})
    assert merger.result() == {"count": 3, "value": [1, 2, 3]}
    assert merger.pages == 3


def test_merge_body_continuation_shapes():
    merger = Merger()
    merger.add({"decoratedAuditLogEntries": [1], "continuationToken": "a", "hasMore": True})
    merger.add({"decoratedAuditLogEntries": [2], "continuationToken": "b", "hasMore": False})
    assert merger.result() == {"decoratedAuditLogEntries": [1, 2], "continuationToken": "b", "hasMore": False}


def test_max_items_truncates_and_reports_full():
    merger = Merger(max_items=3)
    merger.add({"count": 2, "value": [1, 2]})
    assert not merger.full
    merger.add({"count": 2, "value": [3, 4]})
    assert merger.full and merger.result() == {"count": 3, "value": [1, 2, 3]}


def test_top_level_arrays_concatenate():
    merger = Merger()
    merger.add([1])
    merger.add([2])
    assert merger.result() == [1, 2]


# -- issue 9: the shapes that stopped after page 1 --------------------------------------------------------------
def test_user_entitlements_continue_in_the_body_until_null():
    headers = CaseInsensitiveDict()
    assert next_page(headers, {"items": [1], "continuationToken": "t2", "totalCount": 3}) == Next(token="t2")
    assert next_page(headers, {"members": [1], "continuationToken": "t2", "totalCount": 3}) == Next(token="t2")
    assert not next_page(headers, {"items": [3], "continuationToken": None, "totalCount": 3})
    assert not next_page(headers, {"items": [3], "continuationToken": "", "totalCount": 3})


def test_odata_next_link_and_merge_drops_it():
    headers = CaseInsensitiveDict()
    page = {"@odata.context": "c", "value": [1], "@odata.nextLink": "https://h/o/_odata/v4.0/W?$skiptoken=1"}
    assert next_page(headers, page) == Next(link=page["@odata.nextLink"])
    merger = Merger()
    merger.add(page)
    merger.add({"@odata.context": "c", "value": [2]})
    assert merger.result() == {"@odata.context": "c", "value": [1, 2]}


def test_looks_full():
    from azext_devopstoken._paging import looks_full
    assert looks_full({"count": 5, "value": [0] * 5}, [("$top", "5")])
    assert not looks_full({"count": 4, "value": [0] * 4}, [("$top", "5")])
    assert looks_full({"count": 100, "value": [0] * 100}, [])
    assert not looks_full({"count": 30, "value": [0] * 30}, [])
    assert not looks_full({"id": 1}, [])


def _page(first, size):
    return {"count": size, "value": [{"id": i} for i in range(first, first + size)]}


def test_skip_follower_follows_full_pages_and_stops_on_a_short_one():
    from azext_devopstoken._paging import SkipFollower
    params = [("api-version", "7.1"), ("$top", "50"), ("$skip", "10")]
    follower = SkipFollower(params)
    second = follower.next_params(_page(10, 50), params)
    assert second == [("api-version", "7.1"), ("$top", "50"), ("$skip", "60")]
    assert not follower.repeats(_page(60, 50))
    assert follower.next_params(_page(60, 50), second)[-1] == ("$skip", "110")
    assert follower.next_params(_page(110, 20), second) is None


def test_skip_follower_without_top_uses_a_server_sized_first_page_and_detects_ignored_skip():
    from azext_devopstoken._paging import SkipFollower
    follower = SkipFollower([])
    assert follower.next_params(_page(0, 3), []) is None                 # a small list is the whole list
    follower = SkipFollower([])
    assert follower.next_params(_page(0, 100), []) == [("$top", "100"), ("$skip", "100")]
    assert follower.repeats(_page(0, 100))
    follower.active = False
    assert follower.next_params(_page(100, 100), []) is None


# -- issue 13: the pages after the next one, for --paginate --parallel ------------------------------------------
def test_skip_follower_tells_the_queries_of_the_pages_ahead():
    from azext_devopstoken._paging import SkipFollower
    params = [("api-version", "7.1"), ("$skip", "10"), ("$top", "50")]
    follower = SkipFollower(params)
    second = follower.next_params(_page(10, 50), params)
    assert follower.ahead(second, 2) == [[("api-version", "7.1"), ("$top", "50"), ("$skip", "110")],
                                         [("api-version", "7.1"), ("$top", "50"), ("$skip", "160")]]
    assert follower.next_params(_page(60, 50), second) == follower.ahead(second, 1)[0]


def test_counting_tokens_tell_the_tokens_ahead_while_they_count():
    from azext_devopstoken._paging import CountingToken
    tokens = CountingToken([("$top", "100")])
    tokens.observe("100", 100)
    assert tokens.ahead(3) == ["200", "300", "400"]
    tokens.observe("200", 100)
    assert tokens.ahead(1) == ["300"]
    tokens.observe("305", 100)                       # stopped counting: nothing is told any more
    assert not tokens.holds and tokens.ahead(3) == []
    tokens.observe("405", 100)
    assert tokens.ahead(3) == []


def test_only_plain_counts_from_skip_are_counting_tokens():
    from azext_devopstoken._paging import CountingToken
    with_skip = CountingToken([("$skip", "10")])
    with_skip.observe("110", 100)
    assert with_skip.ahead(1) == ["210"]
    for token, items in (("0100", 100), ("abc", 100), ("80", 50), ("100", 0), ("+100", 100)):
        tokens = CountingToken([])
        tokens.observe(token, items)
        assert tokens.ahead(2) == [], token
