"""Member entitlement management (the vsaex host): user entitlements, paged by a continuation token in the body.

``GET {org}/_apis/userentitlements`` (SearchUserEntitlements, released at 7.1) answers ``PagedUserEntitlementsList``
``{items, continuationToken, totalCount}``: "The continuation token for next page of data. Can be null, if no more
data exists." — no ``hasMore``, no header (MicrosoftDocs/vsts-rest-api-specs
memberEntitlementManagement/7.1/memberEntitlementManagement.json). The page size is the service's own (no ``$top``).
"""
from emulator.devops import model
from emulator.devops.call import decode_token

ENTITLEMENTS_PAGE = 100


def _entitlement_json(user, org):
    oid, upn, name = user
    return {"id": oid, "user": {"subjectKind": "user", "principalName": upn, "mailAddress": upn,
                                "displayName": name, "origin": "aad", "originId": oid,
                                "descriptor": "aad." + model.b64(model.stable_id("identity", org.tenant, oid))},
            "accessLevel": {"licensingSource": "account", "accountLicenseType": "express",
                            "status": "active", "licenseDisplayName": "Basic"},
            "lastAccessedDate": model.iso(model.EPOCH), "dateCreated": model.iso(model.EPOCH)}


def user_entitlements(call):
    users = model.graph_users(call.org, call.emulator.directory)
    token = call.arg("continuationToken")
    start = decode_token(token, "entitlements") if token else 0
    end = min(start + ENTITLEMENTS_PAGE, len(users))
    return call.ok({"items": [_entitlement_json(u, call.org) for u in users[start:end]],
                    "continuationToken": model.b64("entitlements:%d" % end) if end < len(users) else None,
                    "totalCount": len(users)})
