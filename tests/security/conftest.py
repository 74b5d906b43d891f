"""tests/security runs the real az as tests/e2e does: the same session fixtures (wheel, extension, logins of
every identity kind) and the same ``devops`` fixture (faults and request log reset around each test)."""
from security_support import e2e

wheel = e2e.wheel
extension_dir = e2e.extension_dir
ext_template = e2e.ext_template
sp_env = e2e.sp_env
cert_env = e2e.cert_env
mi_env = e2e.mi_env
uami_env = e2e.uami_env
user_env = e2e.user_env
fresh_env = e2e.fresh_env
devops = e2e.devops
