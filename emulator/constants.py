"""Identifiers the emulated services share, each stated once.

``DEVOPS_HOSTS`` are the listeners played by the Azure DevOps service: the organization host
(``dev.azure.com/{org}``), the identity host (``vssps.dev.azure.com/{org}``, Graph), the release host
(``vsrm.dev.azure.com/{org}``), member entitlement management (``vsaex.dev.azure.com/{org}``) and the audit
service (``auditservice.dev.azure.com/{org}``: host of MicrosoftDocs/vsts-rest-api-specs audit/7.1/audit.json).
Adding an Azure DevOps host is one entry here; routes then name it.

``SERVER_HOST`` is an Azure DevOps Server collection host (``https://server/{collection}``), played by the same
service with Server rules: no Microsoft Entra tokens, PATs as Basic, api-versions up to 7.0, empty resource areas.
"""

# The Azure DevOps resource (application) id, the audience of its Entra tokens
# (https://learn.microsoft.com/azure/devops/integrate/get-started/authentication/service-principal-managed-identity).
AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
# The tenant of Microsoft-account (MSA) backed organizations: the all-zero tenant.
MSA_TENANT = "00000000-0000-0000-0000-000000000000"
# Azure Resource Manager's classic resource id, the audience az asks for on login.
ARM_RESOURCE = "https://management.core.windows.net/"
# The Azure CLI's public client id (azure.cli.core._profile).
AZ_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

DEVOPS_HOSTS = ("devops", "vssps", "vsrm", "vsaex", "auditservice")
SERVER_HOST = "server"
SERVER_COLLECTION = "DefaultCollection"
