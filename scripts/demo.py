"""The main job, end to end on this machine: the real az, the extension installed from its wheel, a service
principal login, a token for Azure DevOps and a REST call with it. Everything talks to the bundled loopback
emulator, in a throwaway config dir that is deleted at the end (your ~/.azure is never read or written).

Run through scripts/demo, which makes the venv and the wheel first.
"""
import glob
import json
import os
import shlex
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from emulator.app import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from emulator.azenv import AzEnv  # noqa: E402  pylint: disable=wrong-import-position


def show(args, secret=None):
    words = [arg.replace(secret, "***") if secret else arg for arg in args]
    print("\n$ az " + " ".join(shlex.quote(word) for word in words), flush=True)


def run(env, *args, secret=None, quiet=False):
    show(args, secret)
    result = env.az(*args)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit("demo: `az %s` failed with exit code %d" % (args[0], result.returncode))
    if not quiet:
        sys.stdout.write(result.stdout)
    return result.stdout


def describe_token(token):
    import jwt
    claims = jwt.decode(token, options={"verify_signature": False})
    return "%s... (%d characters; aud=%s, tid=%s, appid=%s)" % (token[:12], len(token), claims["aud"],
                                                               claims["tid"], claims.get("appid"))


def main():
    wheels = sorted(glob.glob(os.path.join(REPO, "dist", "devops_token-*-py3-none-any.whl")))
    if not wheels:
        raise SystemExit("demo: no wheel in dist/; run scripts/bootstrap first")
    with tempfile.TemporaryDirectory(prefix="devops-token-demo-") as workdir:
        with Emulator(os.path.join(workdir, "emulator"), max_seconds=600) as emu:
            env = AzEnv(emu, os.path.join(workdir, "azure-config"),
                        extension_dir=os.path.join(workdir, "cliextensions"))
            print("Loopback emulator: Entra ID %s, ARM %s, Azure DevOps %s" % (emu.login_url, emu.arm_url,
                                                                                emu.devops_url))
            print("Throwaway AZURE_CONFIG_DIR=%s" % env.config_dir)
            run(env, "extension", "add", "--source", wheels[-1], "--yes")
            run(env, "extension", "list", "--query", "[].{name:name, version:version}", "-o", "table")
            env.register_cloud()
            print("\n(az cloud register + az cloud set: the emulator is the active cloud)")
            bot = env.identity("ci-bot")
            run(env, "login", "--service-principal", "--username", bot["app_id"], "--password=" + bot["secret"],
                "--tenant", bot["home_tenant"], "--query", "[].{subscription:name, tenant:tenantId}", "-o", "table",
                secret=bot["secret"])
            run(env, "devops-token", "get", "--query", "{tokenType:tokenType, tenant:tenant, expiresOn:expiresOn}",
                "-o", "table")
            token = run(env, "devops-token", "get", "--query", "accessToken", "-o", "tsv", quiet=True).strip()
            print(describe_token(token))
            org = emu.org_url("contoso")
            run(env, "devops-rest", "call", "--org", org, "--path", "_apis/projects", "--query",
                "value[:5].{name:name, state:state}", "-o", "table")
            count = run(env, "devops-rest", "call", "--org", org, "--path", "_apis/projects", "--paginate",
                        "--query", "count", "-o", "tsv", quiet=True).strip()
            print("%s projects, fetched page by page through x-ms-continuationtoken" % count)
            whoami = json.loads(run(env, "devops-rest", "call", "--org", org, "--path", "_apis/connectionData",
                                    "--api-version", "7.1-preview.1", "--query", "authenticatedUser", "-o", "json",
                                    quiet=True))
            print("Azure DevOps sees: %s" % whoami.get("providerDisplayName"))
    print("\ndemo: OK (emulator stopped, throwaway config dir removed)")


if __name__ == "__main__":
    main()
