"""Audit area: the audit log, paged by a continuation token in the body (``continuationToken``, ``hasMore``)."""
from emulator.devops import model
from emulator.devops.call import decode_token


def audit_log(call):
    size = call.int_arg("batchSize", 200, minimum=1)
    token = call.arg("continuationToken")
    start = decode_token(token, "audit") if token else 0
    end = min(start + size, model.AUDIT_ENTRIES)
    return call.ok({
        "decoratedAuditLogEntries": [model.audit_entry_json(call.org, i) for i in range(start, end)],
        "continuationToken": model.b64("audit:%d" % end), "hasMore": end < model.AUDIT_ENTRIES})
