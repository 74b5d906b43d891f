from knack.help_files import helps  # pylint: disable=unused-import

helps['devops-token'] = """
type: group
short-summary: Microsoft Entra access tokens for Azure DevOps, from the login `az login` already holds.
long-summary: >
    Azure DevOps accepts Microsoft Entra access tokens for the resource 499b84ac-1321-427f-aa17-267ca6975798
    in place of personal access tokens. These commands get one in-process from the account you are signed
    in with (user, service principal, managed identity or Cloud Shell): no PAT to create, store or rotate.
    Tokens last about an hour; get a fresh one for each job instead of storing it.
"""

helps['devops-token get'] = """
type: command
short-summary: Get an access token for Azure DevOps.
long-summary: >
    The output has the shape of `az account get-access-token`: tokenType, accessToken, expires_on
    (POSIX seconds), expiresOn (local time), tenant and subscription (left out with --tenant), so
    `--query accessToken -o tsv` prints the token alone. The token is fetched for the resource
    499b84ac-1321-427f-aa17-267ca6975798 (scope 499b84ac-1321-427f-aa17-267ca6975798/.default) from
    the tenant of the current subscription, of --subscription, or of --tenant.
    The identity must have been added to the Azure DevOps organization, and the token must come
    from the organization's own Microsoft Entra tenant.
examples:
  - name: Get a token for Azure DevOps from the current login.
    text: az devops-token get
  - name: Keep only the token, for a script (bash).
    text: |
        token=$(az devops-token get --query accessToken -o tsv)
        curl -sS -H "Authorization: Bearer $token" "https://dev.azure.com/contoso/_apis/projects?api-version=7.1"
  - name: Keep only the token, for a script (PowerShell).
    text: |
        $token = az devops-token get --query accessToken -o tsv
        $headers = @{ Authorization = "Bearer $token" }
        Invoke-RestMethod -Uri "https://dev.azure.com/contoso/_apis/projects?api-version=7.1" -Headers $headers
  - name: Get a token from the tenant an organization belongs to, when it is not the subscription's tenant.
    text: az devops-token get --tenant 72f988bf-86f1-41af-91ab-2d7cd011db47
  - name: Get a token through the credentials of another subscription's tenant.
    text: az devops-token get --subscription "My Subscription"
  - name: Show when the token expires, in POSIX seconds.
    text: az devops-token get --query expires_on -o tsv
"""

helps['devops-rest'] = """
type: group
short-summary: Call any Azure DevOps REST API with the Microsoft Entra login that az already holds.
long-summary: >
    Unlike `az rest`, which does not know the Azure DevOps audience and sends no token to dev.azure.com,
    these commands get the right token in-process, follow continuation paging, retry throttling (429 with
    Retry-After) and turn Azure DevOps' sign-in pages and error bodies into one-line errors.
"""

helps['devops-rest call'] = """
type: command
short-summary: Call an Azure DevOps REST API.
long-summary: >
    The call goes to --path under the organization (--org, or a configured default), with an api-version
    (see below), the headers X-TFS-FedAuthRedirect: Suppress and X-VSS-ForceMsaPassThrough: true, and a
    Microsoft Entra token for Azure DevOps as Bearer authorization. The token is sent only to the organization
    and its service hosts, and never appears in logs (--debug shows it as <redacted>).
    JSON answers are printed through az, so --query and every --output format work; other text is written to
    stdout unchanged; --output-file streams any body to a file. Throttling (429), 502/503/504 and refused
    connections are retried with backoff, honouring Retry-After; POST and PATCH are retried only when the
    server cannot have processed them. A 404 exits with code 3, as az does; when the failed answer is JSON,
    it is also the command's output (through --query and -o), so a script can read its typeKey or errorCode.
    Bodies without JSON quoting: -f/-F build a JSON object (gh api's rules), --patch a JSON Patch array, and
    --input sends a file or stdin byte for byte; any of them makes the default method POST.
    api-version: without --api-version, 7.1 is sent; about a quarter of Azure DevOps routes (Graph, audit,
    dashboards, connectionData, ...) accept only a -preview version, and Azure DevOps Server accepts nothing newer
    than its release (7.0 for Server 2022). When the service refuses 7.1 for either reason, devops-token reads the
    host's API resource locations (OPTIONS {org}/_apis, as the Azure DevOps SDKs do; cached for 12 hours) and
    retries once with the version they give (else the one the refusal names), then keeps it for every page.
    Released routes cost no extra request; a refused route costs two, the first time only. With --api-version the
    version is sent as given and a refusal is an error naming the version to use.
examples:
  - name: List the projects of an organization as a table.
    text: az devops-rest call --org contoso --path _apis/projects --query "value[].{name:name, id:id}" -o table
  - name: List every project, following continuation tokens, as TSV.
    text: az devops-rest call --org https://dev.azure.com/contoso --path _apis/projects --paginate --query "value[].name" -o tsv
  - name: >
        Run a WIQL query in the default project; -f builds the JSON body {"query": "..."} (no JSON quoting),
        and a body makes the method POST.
    text: |
        az config set defaults.devops_organization=https://dev.azure.com/contoso defaults.devops_project=Fabrikam
        az devops-rest call --path '{project}/_apis/wit/wiql' -f "query=SELECT [System.Id] FROM WorkItems WHERE [System.State] = 'Active'" --query 'workItems[].id' -o tsv
  - name: Create a work item in one line (a JSON Patch array, sent as application/json-patch+json with POST).
    text: az devops-rest call --org contoso -p Fabrikam --path '{project}/_apis/wit/workitems/$Task' --patch '/fields/System.Title=Fix the build' --patch '/fields/Microsoft.VSTS.Common.Priority:=1'
  - name: Update work item 42 (-m PATCH) with the text of a file (az reads @file).
    text: az devops-rest call --org contoso -m PATCH --path _apis/wit/workitems/42 --patch '/fields/System.Description=@description.html'
  - name: Upload a binary file as a work item attachment, byte for byte, and print its URL.
    text: az devops-rest call --org contoso -p Fabrikam --path '{project}/_apis/wit/attachments' --query-parameters fileName=screenshot.png --input screenshot.png --query url -o tsv
  - name: Create a work item with a JSON Patch document from a file.
    text: az devops-rest call --org contoso -p Fabrikam --path '{project}/_apis/wit/workitems/$Task' --body '@new-task.json'
  - name: Show the status line and response headers (on stderr; stdout keeps the JSON).
    text: az devops-rest call --org contoso --path _apis/projects -i --query 'value[].name' -o tsv
  - name: Read the typeKey of the error body when a call fails (the command still fails, with exit code 3).
    text: az devops-rest call --org contoso --path _apis/projects/NoSuchProject --query typeKey -o tsv
  - name: Call a URL copied from the REST reference, with {team} filled in.
    text: az devops-rest call --org contoso -p Fabrikam --team 'Fabrikam Team' --path 'https://dev.azure.com/{organization}/{project}/{team}/_apis/work/teamsettings/iterations?api-version=7.1'
  - name: Download a build artifact to a file.
    text: az devops-rest call --org contoso -p Fabrikam --path '{project}/_apis/build/builds/42/artifacts' --query-parameters artifactName=drop '$format=zip' --output-file drop.zip
  - name: List every pull request of a repository, 8 pages at a time (pages of 100 by $top/$skip).
    text: az devops-rest call --org contoso -p Fabrikam --path '{project}/_apis/git/repositories/Fabrikam/pullrequests' --query-parameters 'searchCriteria.status=all' '$top=100' --paginate --parallel 8 --query 'length(value)'
  - name: Call a Graph API on the organization's vssps host (preview-only; the api-version is found for you).
    text: az devops-rest call --org contoso --service vssps --path _apis/graph/users --paginate
  - name: See exactly what would be sent, without sending anything.
    text: az devops-rest call --org contoso -m POST --path Fabrikam/_apis/wit/wiql --body '@wiql.json' --dry-run
  - name: Show the first 5 projects, with $top sent as a query parameter.
    text: az devops-rest call --org contoso --path _apis/projects --query-parameters '$top=5'
"""

helps['devops-rest batch'] = """
type: command
short-summary: Send many Azure DevOps REST requests from one process, several at a time.
long-summary: >
    --input has one JSON request per line: {"method": "PATCH", "path": "{project}/_apis/wit/workitems/42",
    "query": {"$expand": "all"}, "headers": {...}, "body": <JSON>, "id": <anything>}. Only "path" is required
    (method defaults to GET); each path follows the rules of `az devops-rest call --path` ({project} and
    {organization}, api-version 7.1 unless given, another one when the service refuses 7.1, full URLs only on the organization, a JSON Patch array body
    sent as application/json-patch+json). One token and --parallel kept-alive connections serve the whole batch.
    Output: one JSON line per input line, in input order, written as soon as it and all lines before it are
    done: {"index": <0-based line number>, "id": <copied>, "status": 200, "body": <JSON or text>}. Failures
    carry "error", "errorKind" (input, refused, http, auth, network, internal) and, for HTTP errors, the server's
    body; the other lines still run, unless --stop-on-error. Blank lines are skipped (indexes keep counting).
    Exit code 0 only when every request succeeded. Throttling (429, or Retry-After on a delayed answer)
    pauses every worker; a nearly used-up rate limit (X-RateLimit-Remaining) slows the batch down.
    --output and --query do not apply: the results are JSON lines.
examples:
  - name: Run the requests of a file, 8 at a time, and keep the results.
    text: az devops-rest batch --org contoso --project Fabrikam --input requests.jsonl --parallel 8
  - name: Read two work items; the ids in the results tell which is which (bash).
    text: |
        printf '%s\\n' '{"id": 1, "path": "{project}/_apis/wit/workitems/1"}' '{"id": 2, "path": "{project}/_apis/wit/workitems/2"}' | az devops-rest batch --org contoso -p Fabrikam --input -
  - name: Read two work items; the ids in the results tell which is which (PowerShell).
    text: |
        '{"id": 1, "path": "{project}/_apis/wit/workitems/1"}', '{"id": 2, "path": "{project}/_apis/wit/workitems/2"}' | az devops-rest batch --org contoso -p Fabrikam --input -
  - name: Tag every work item a WIQL query (in wiql.json) returns, stopping at the first failure (bash).
    text: |
        az devops-rest call --org contoso -p Fabrikam -m POST --path '{project}/_apis/wit/wiql' --body @wiql.json --query 'workItems[].id' -o tsv | while read -r id; do printf '{"id": %s, "method": "PATCH", "path": "{project}/_apis/wit/workitems/%s", "body": [{"op": "add", "path": "/fields/System.Tags", "value": "triaged"}]}\\n' "$id" "$id"; done | az devops-rest batch --org contoso -p Fabrikam --input - --stop-on-error
  - name: Tag every work item a WIQL query (in wiql.json) returns, stopping at the first failure (PowerShell).
    text: |
        az devops-rest call --org contoso -p Fabrikam -m POST --path '{project}/_apis/wit/wiql' --body '@wiql.json' --query 'workItems[].id' -o tsv | ForEach-Object { @{id = [int]$_; method = 'PATCH'; path = "{project}/_apis/wit/workitems/$_"; body = @(@{op = 'add'; path = '/fields/System.Tags'; value = 'triaged'})} | ConvertTo-Json -Compress -Depth 5 } | az devops-rest batch --org contoso -p Fabrikam --input - --stop-on-error
"""

helps['devops-token whoami'] = """
type: command
short-summary: Show who your token says you are, the organization's tenant, and who Azure DevOps says you are.
long-summary: >
    Diagnoses "why does Azure DevOps reject me". Three parts: token (decoded locally: identity type, upn or app
    ID, object ID, tenant, scopes, expiry; the token itself is never printed), organization (its URL and its
    Microsoft Entra tenant, found without credentials, and whether it matches the token's), and azureDevOps
    (who the organization's connectionData says you are, or — when it refuses the token — why, e.g. the
    identity has not been added to the organization). A refusal is reported in the output, not as a failure:
    check azureDevOps.accepted. Without an organization (no --org and no default) only the token is shown.
examples:
  - name: Check who you are to an organization.
    text: az devops-token whoami --org contoso
  - name: Check only whether Azure DevOps accepts you, in a script.
    text: az devops-token whoami --org https://dev.azure.com/contoso --query azureDevOps.accepted -o tsv
  - name: Show the token's identity as a table.
    text: az devops-token whoami --query token -o table
"""

helps['devops-token git-credential'] = """
type: group
short-summary: A git credential helper for Azure Repos that uses the az login instead of a PAT.
long-summary: >
    Register it once, and git clone/fetch/push to Azure Repos use a fresh Microsoft Entra token from the
    current az login (user, service principal or managed identity):

        git config --global credential.https://dev.azure.com.helper '!az devops-token git-credential'

    git then runs `az devops-token git-credential get|store|erase` itself. Only https remotes on
    dev.azure.com, *.visualstudio.com or the host of your default organization are answered; tokens are never
    stored, and carry password_expiry_utc so git does not reuse an expired one. For a remote without the
    organization in its path, the token comes from the current subscription's tenant.
"""

helps['devops-token git-credential get'] = """
type: command
short-summary: Answer git's credential request (git runs this; key=value lines on stdin).
examples:
  - name: Use the az login for every Azure Repos remote on dev.azure.com.
    text: git config --global credential.https://dev.azure.com.helper '!az devops-token git-credential'
  - name: Ask for a credential the way git does (bash).
    text: printf 'protocol=https\\nhost=dev.azure.com\\npath=contoso/Website/_git/Website\\n\\n' | az devops-token git-credential get
  - name: Ask for a credential the way git does (PowerShell).
    text: |
        "protocol=https`nhost=dev.azure.com`npath=contoso/Website/_git/Website`n" | az devops-token git-credential get
"""

helps['devops-token git-credential store'] = """
type: command
short-summary: Accept git's store request and keep nothing (tokens are fetched fresh each time).
examples:
  - name: What git runs after a successful push, a no-op (bash).
    text: printf 'protocol=https\\nhost=dev.azure.com\\n\\n' | az devops-token git-credential store
  - name: What git runs after a successful push, a no-op (PowerShell).
    text: |
        "protocol=https`nhost=dev.azure.com`n" | az devops-token git-credential store
"""

helps['devops-token git-credential erase'] = """
type: command
short-summary: Accept git's erase request; there is nothing stored to erase.
examples:
  - name: What git runs after a rejected credential, a no-op (bash).
    text: printf 'protocol=https\\nhost=dev.azure.com\\n\\n' | az devops-token git-credential erase
  - name: What git runs after a rejected credential, a no-op (PowerShell).
    text: |
        "protocol=https`nhost=dev.azure.com`n" | az devops-token git-credential erase
"""
