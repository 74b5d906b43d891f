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
