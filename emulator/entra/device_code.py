"""Device authorization (``POST /{tenant}/oauth2/v2.0/devicecode``): codes approved at once by
``device_code_user`` or a queued user, or later by :meth:`EntraService.approve_device_code`; and the test hook
that queues the user who signs in next."""
import secrets
import time

from emulator.entra import access_tokens
from emulator.entra.common import (DEVICE_CODE_LIFETIME, DEVICE_LOGIN_PATH, DeviceCodeRecord, EntraError,
                                   random_id, trace_headers)
from emulator.server import Response


def device_authorization(entra, request, segment):
    tenant = entra.resolve_tenant(segment)
    form = request.form()
    client_id = form.get("client_id", "")
    if not client_id:
        raise EntraError(400, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'client_id'.")
    scopes = access_tokens.resource_scopes(form.get("scope", ""))
    access_tokens.scoped_resource(entra, scopes, tenant)  # refuse an unknown resource now, as Entra does
    with entra.lock:
        queued = entra.next_device_code_users.popleft() if entra.next_device_code_users else None
        user = queued or entra.device_code_user
        record = DeviceCodeRecord(
            device_code="DAQABIQEAAAD" + random_id(120), user_code=secrets.token_hex(5).upper()[:9],
            client_id=client_id, scope=form.get("scope", ""), tenant=tenant,
            expires_at=time.time() + DEVICE_CODE_LIFETIME,
            state="approved" if user else "pending", user=user)
        entra.device_codes[record.device_code] = record
    verification_uri = entra.emulator.login_url + DEVICE_LOGIN_PATH
    return Response.json(200, {
        "user_code": record.user_code, "device_code": record.device_code,
        "verification_uri": verification_uri, "expires_in": DEVICE_CODE_LIFETIME,
        "interval": 1 if user else 5,  # an approved code needs no wait; MSAL polls at this interval
        "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
                   f"{record.user_code} to authenticate.",
    }, headers=trace_headers(request))


def queue_device_code_user(entra, request):
    """The test hook behind :meth:`sign_in_next_device_code`, checked with the user's password."""
    form = request.form()
    user = entra.directory.by_upn(form.get("username")) or entra.directory.principals.get(form.get("username"))
    if user is None or user.kind != "user" or not secrets.compare_digest(
            (user.password or "").encode(), form.get("password", "").encode()):
        raise EntraError(400, "invalid_grant", 50126,
                         "Error validating credentials due to invalid username or password.")
    entra.sign_in_next_device_code(user.key)
    return Response.json(200, {"user": user.key})
