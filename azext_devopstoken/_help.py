from knack.help_files import helps  # pylint: disable=unused-import

helps['devops-token'] = """
type: group
short-summary: Microsoft Entra access tokens for Azure DevOps, from the login `az login` already holds.
long-summary: |
    Azure DevOps accepts Microsoft Entra access tokens for the resource 499b84ac-1321-427f-aa17-267ca6975798
    in place of personal access tokens. These commands get one in-process from the account you are signed
    in with (user, service principal, managed identity or Cloud Shell): no PAT to create, store or rotate.
    Tokens last about an hour; get a fresh one for each job instead of storing it.
"""

helps['devops-token get'] = """
type: command
short-summary: Get an access token for Azure DevOps.
long-summary: |
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
