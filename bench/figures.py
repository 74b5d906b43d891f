"""The five figures: each runs our command and its peers in paired rounds and adds rows to the table."""
import glob
import os
import shutil
import sys

from bench.checks import check_account, check_file, check_projects, check_token, check_version, remove
from bench.measure import MB, Variant, megabytes, paired_ratio, run_rounds
from emulator.azenv import AzEnv
from emulator.constants import AZURE_DEVOPS_RESOURCE
from emulator.devops.artifacts import artifact_sha256

CURL = shutil.which("curl") or "curl"
BIG_ORG, BIG_ORG_ITEMS, PAGE_LATENCY_MS = "bigorg", 10000, 20
ARTIFACT_PROJECT = "Website"
ARTIFACT_PATH = "{project}/_apis/build/builds/1/artifacts?artifactName=drop&$format=zip"

# The documented recipe: a token from az, then curl with it.
RECIPE_SH = r"""set -euo pipefail
az=$1 resource=$2 ca=$3 url=$4
token=$("$az" account get-access-token --resource "$resource" --query accessToken -o tsv)
curl -sS --fail --noproxy '*' --cacert "$ca" -H "Authorization: Bearer $token" "$url"
"""

# Paging with curl: one token from az, then one curl per page, following x-ms-continuationtoken.
CURL_LOOP_SH = r"""set -euo pipefail
az=$1 resource=$2 ca=$3 url=$4 out=$5 max_pages=$6
token=$("$az" account get-access-token --resource "$resource" --query accessToken -o tsv)
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
continuation='' pages=0
: > "$out"
while :; do
    args=(-G --data-urlencode "api-version=7.1")
    [ -n "$continuation" ] && args+=(--data-urlencode "continuationToken=$continuation")
    curl -sS --fail --noproxy '*' --cacert "$ca" -H "Authorization: Bearer $token" "${args[@]}" \
        -D "$headers" "$url" >> "$out"
    echo >> "$out"
    pages=$((pages + 1))
    continuation=$(sed -n 's/^x-ms-continuationtoken:[[:space:]]*\([^[:space:]]*\).*$/\1/Ip' "$headers")
    [ -n "$continuation" ] && [ "$pages" -lt "$max_pages" ] || break
done
"""

# Paging with az rest: it prints only the body, so the continuation header is read from its --debug log
# (the only place az rest shows response headers). One az process per page.
AZ_REST_LOOP_SH = r"""set -euo pipefail
az=$1 resource=$2 url=$3 out=$4 max_pages=$5
log=$(mktemp)
trap 'rm -f "$log"' EXIT
urlencode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in [A-Za-z0-9._~-]) out+=$c ;; *) printf -v c '%%%02X' "'$c"; out+=$c ;; esac
    done
    printf '%s' "$out"
}
continuation='' pages=0
: > "$out"
while :; do
    page_url="$url?api-version=7.1"
    [ -n "$continuation" ] && page_url="$page_url&continuationToken=$(urlencode "$continuation")"
    "$az" rest --resource "$resource" --url "$page_url" --debug >> "$out" 2> "$log"
    echo >> "$out"
    pages=$((pages + 1))
    continuation=$(sed -n "s/^.*'x-ms-continuationtoken': '\([^']*\)'.*\$/\1/Ip" "$log" | head -n 1)
    [ -n "$continuation" ] && [ "$pages" -lt "$max_pages" ] || break
done
"""


class Bench:
    def __init__(self, emu, env, workdir, profile, cpu_note):
        self.emu, self.env, self.workdir, self.profile = emu, env, workdir, profile
        self.cpu_note = cpu_note
        self.devops = emu.services["devops"]
        self.az = env.az_path
        self.ca = emu.ca_bundle
        self.client_env = dict(env.env, CURL_CA_BUNDLE=emu.ca_bundle)  # curl: trust the emulator's CA only
        self.rows, self.variants = [], []
        self.scripts = {}
        for name, text in (("recipe", RECIPE_SH), ("curl_loop", CURL_LOOP_SH), ("az_rest_loop", AZ_REST_LOOP_SH)):
            self.scripts[name] = os.path.join(workdir, name + ".sh")
            with open(self.scripts[name], "w", encoding="utf-8") as handle:
                handle.write(text)

    def bash(self, script, *args):
        return ["bash", self.scripts[script], *args]

    def row(self, number, figure, ours, peer, ratio, goal, met, rounds):
        self.rows.append((number, figure, ours, peer, ratio, goal, "yes" if met else "**no**", rounds))

    def time_row(self, number, figure, ours, peer, goal):
        ratio, spread = paired_ratio(ours, peer)
        self.row(number, figure, "%.2f s" % ours.median(), "%.2f s" % peer.median(), "%.3f×" % ratio,
                 "≤ %.2f×" % goal, ratio <= goal, spread)
        return ratio

    def token(self):
        ours = Variant("token-ours", "az devops-token get", [self.az, "devops-token", "get"], self.env.env,
                       check=check_token)
        peer = Variant("token-az", "az account get-access-token --resource …",
                       [self.az, "account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE], self.env.env,
                       check=check_token)
        run_rounds("1 token", [ours, peer], self.profile["token"], self.workdir)
        self.variants += [ours, peer]
        self.time_row("1", "`az devops-token get` vs `az account get-access-token --resource 499b84ac-…`",
                      ours, peer, 1.0)

    def call(self):
        org = self.emu.org_url("contoso")
        url = org + "/_apis/projects?api-version=7.1"
        check = check_projects(100)
        ours = Variant("call-ours", "az devops-rest call --org … --path _apis/projects",
                       [self.az, "devops-rest", "call", "--org", org, "--path", "_apis/projects"], self.env.env,
                       check=check)
        rest = Variant("call-az-rest", "az rest --resource … --url …/_apis/projects?api-version=7.1",
                       [self.az, "rest", "--resource", AZURE_DEVOPS_RESOURCE, "--url", url], self.env.env, check=check)
        recipe = Variant("call-recipe", "az account get-access-token … -o tsv; curl -H 'Authorization: Bearer …'",
                         self.bash("recipe", self.az, AZURE_DEVOPS_RESOURCE, self.ca, url), self.client_env,
                         check=check)
        run_rounds("2 call", [ours, rest, recipe], self.profile["call"], self.workdir)
        self.variants += [ours, rest, recipe]
        self.time_row("2a", "`az devops-rest call --path _apis/projects` vs `az rest --resource … --url …`",
                      ours, rest, 1.0)
        self.time_row("2b", "`az devops-rest call --path _apis/projects` vs recipe: "
                      "`az account get-access-token … -o tsv` + `curl`", ours, recipe, 1.0)

    def paging(self):
        pages = self.profile["paging_pages"]
        items = pages * 100
        org = self.emu.org_url(BIG_ORG)
        url = org + "/_apis/projects"
        check = check_projects(items)
        argv = [self.az, "devops-rest", "call", "--org", org, "--path", "_apis/projects", "--paginate"]
        if items < BIG_ORG_ITEMS:
            argv += ["--max-items", str(items)]
        out = os.path.join(self.workdir, "pages.json")
        ours = Variant("paging-ours", "az devops-rest call … --paginate", argv, self.env.env, check=check)
        curl_loop = Variant("paging-curl-loop", "az account get-access-token + a curl per page",
                            self.bash("curl_loop", self.az, AZURE_DEVOPS_RESOURCE, self.ca, url, out, str(pages)),
                            self.client_env, check=lambda _: check(out), after=remove(out))
        rest_loop = Variant("paging-az-rest-loop", "an az rest --debug per page",
                            self.bash("az_rest_loop", self.az, AZURE_DEVOPS_RESOURCE, url, out, str(pages)),
                            self.client_env, check=lambda _: check(out), after=remove(out),
                            rounds=self.profile["paging_az_rest"], warm_up=False)
        self.devops.set_latency(PAGE_LATENCY_MS)
        try:
            run_rounds("3 paging", [ours, rest_loop, curl_loop], self.profile["paging"], self.workdir)
        finally:
            self.devops.set_latency(0)
        self.variants += [ours, rest_loop, curl_loop]
        what = "%s items (%d pages of 100, +%d ms per request)" % (format(items, ","), pages, PAGE_LATENCY_MS)
        ratio, spread = paired_ratio(ours, rest_loop)
        self.row("3a", "Paging %s: `--paginate` vs a shell loop of `az rest` (one az per page)" % what,
                 "%.2f s" % ours.median(), "%.2f s" % rest_loop.median(),
                 "%.3f× (%.0f× faster)" % (ratio, 1 / ratio), "≤ 0.05× (≥ 20× faster)", ratio <= 0.05,
                 spread + "; fewer: %d az processes each" % pages)
        self.time_row("3b", "Paging %s: `--paginate` vs a curl loop with one token (token fetch included)" % what,
                      ours, curl_loop, 1.0)

    def download(self):
        size = self.profile["download_size"]
        self.devops.set_artifact_size(size)
        print("  [4 download] sha256 of the %d-byte artifact..." % size, file=sys.stderr, flush=True)
        sha256 = artifact_sha256(size)
        token = self.env.get_access_token(AZURE_DEVOPS_RESOURCE)["accessToken"]
        org = self.emu.org_url("contoso")
        target = os.path.join(self.workdir, "drop.zip")
        url = "%s/%s/_apis/build/builds/1/artifacts?artifactName=drop&%%24format=zip&api-version=7.1" % (
            org, ARTIFACT_PROJECT)
        ours = Variant("download-ours", "az devops-rest call … --output-file",
                       [self.az, "devops-rest", "call", "--org", org, "--project", ARTIFACT_PROJECT,
                        "--path", ARTIFACT_PATH, "--output-file", target], self.env.env,
                       check=check_file(target, size, sha256), after=remove(target))
        peer = Variant("download-curl", "curl -o (same token)",
                       [CURL, "-sS", "--fail", "--noproxy", "*", "--cacert", self.ca, "-H",
                        "Authorization: Bearer " + token, "-o", target, url], self.client_env,
                       check=check_file(target, size, sha256), after=remove(target))
        try:
            run_rounds("4 download", [ours, peer], self.profile["download"], self.workdir)
        finally:
            self.devops.set_artifact_size(1 << 20)
        self.variants += [ours, peer]
        what = "%d MiB" % (size >> 20) if size < 1 << 30 else "%d GiB" % (size >> 30)
        rss = ours.median("max_rss")
        self.row("4a", "`--output-file` download of %s: peak RSS of the az process (peer: curl's)" % what,
                 megabytes(rss), megabytes(peer.median("max_rss")), "—", "< 150 MB",
                 rss is not None and rss < 150 * MB, str(len(ours.samples)))
        ratio, spread = paired_ratio(peer, ours)  # throughput ratio = peer time / our time
        self.row("4b", "`--output-file` download of %s: throughput vs `curl -o` with the same token "
                 "(whole command, start-up included)" % what, "%.0f MB/s" % (size / ours.median() / MB),
                 "%.0f MB/s" % (size / peer.median() / MB), "%.3f×" % ratio, "≥ 0.50×", ratio >= 0.5, spread)

    def startup(self):
        with_env = self.env.copy(os.path.join(self.workdir, "config-with"))
        without_dir = os.path.join(self.workdir, "config-without")
        shutil.copytree(self.env.config_dir, without_dir)
        empty = os.path.join(self.workdir, "no-extensions")
        os.makedirs(empty, exist_ok=True)
        without_env = AzEnv(self.emu, without_dir, extension_dir=empty, az=self.az)
        for env in (with_env, without_env):  # each builds its own command index below (warm-up)
            for name in glob.glob(os.path.join(env.config_dir, "*[iI]ndex.json")):
                os.unlink(name)
            env.az("version", check=True)
        ours = Variant("startup-with", "az version (extension installed)", [self.az, "version"], with_env.env,
                       check=check_version(True))
        peer = Variant("startup-without", "az version (no extension)", [self.az, "version"], without_env.env,
                       check=check_version(False))
        run_rounds("5 start-up", [ours, peer], self.profile["startup"], self.workdir)
        self.variants += [ours, peer]
        self.time_row("5", "`az version` start-up with the extension installed vs without", ours, peer, 1.02)
        # Context for 5: an ordinary command, which does not list extensions as `az version` does.
        ours = Variant("account-show-with", "az account show (extension installed)", [self.az, "account", "show"],
                       with_env.env, check=check_account)
        peer = Variant("account-show-without", "az account show (no extension)", [self.az, "account", "show"],
                       without_env.env, check=check_account)
        run_rounds("5b start-up", [ours, peer], self.profile["startup"], self.workdir)
        self.variants += [ours, peer]
        self.time_row("5b", "Context: `az account show` with the extension installed vs without", ours, peer, 1.02)
