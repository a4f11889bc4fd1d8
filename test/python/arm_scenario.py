"""The Azure CLI's own management clients (Debian's python3-azure: azure-mgmt-resource 22.0.0,
azure-mgmt-keyvault 10.1.0) against Coffer's Resource Manager plane, as `az login`, `az group create`
and `az keyvault create/update/set-policy/list/delete/list-deleted/recover/purge` call them: default api-versions, ARMPolling.

Usage: python3 arm_scenario.py ADMIN_OBJECT_ID   (COFFER_DEV_DATA_DIR and REQUESTS_CA_BUNDLE set by the test)
"""
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCheckNameAvailabilityParameters,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultProperties,
)
from azure.mgmt.resource import ResourceManagementClient, SubscriptionClient

import sys

from coffer_sdk import answer, credential, facts

GROUP = "py-rg"


def scenario(dev, cred, admin_object_id):
    # What `az cloud register` + `az login` leave behind: Resource Manager at Coffer's URL, tokens
    # for the first audience of /metadata/endpoints (the URL itself).
    endpoint = {"base_url": dev["url"], "credential_scopes": [dev["url"] + "/.default"]}
    subscriptions = SubscriptionClient(cred, **endpoint)
    listed = [s.subscription_id for s in subscriptions.subscriptions.list()]
    tenants = [t.tenant_id for t in subscriptions.tenants.list()]
    subscription = dev["subscriptionId"]

    groups = ResourceManagementClient(cred, subscription, **endpoint)
    groups.resource_groups.create_or_update(GROUP, {"location": "local"})
    group_exists = groups.resource_groups.check_existence(GROUP)

    vaults = KeyVaultManagementClient(cred, subscription, **endpoint)
    properties = VaultProperties(
        tenant_id=dev["tenantId"],
        sku=Sku(family="A", name="standard"),
        access_policies=[],
        enable_rbac_authorization=False,
    )
    poller = vaults.vaults.begin_create_or_update(
        GROUP, "py-vault", VaultCreateOrUpdateParameters(location="local", properties=properties, tags={"by": "az"})
    )
    created = poller.result()
    updated = vaults.vaults.update(GROUP, "py-vault", VaultPatchParameters(tags={"by": "az", "env": "test"}))
    policy = AccessPolicyEntry(
        tenant_id=dev["tenantId"], object_id=admin_object_id, permissions=Permissions(secrets=["get", "set"])
    )
    vaults.vaults.update_access_policy(
        GROUP, "py-vault", "add", VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[policy]))
    )
    fetched = vaults.vaults.get(GROUP, "py-vault")
    in_group = [v.name for v in vaults.vaults.list_by_resource_group(GROUP)]
    resources = [r.id for r in vaults.vaults.list()]
    taken = vaults.vaults.check_name_availability(VaultCheckNameAvailabilityParameters(name="py-vault"))
    vaults.vaults.delete(GROUP, "py-vault")
    after_delete = [v.name for v in vaults.vaults.list_by_resource_group(GROUP)]
    # `az keyvault list-deleted`, `show-deleted`, `recover` (a PUT with create_mode recover) and
    # `purge` (a long-running POST, ARMPolling at its Location).
    deleted = [{"name": v.name, "vaultId": v.properties.vault_id} for v in vaults.vaults.list_deleted()]
    shown = vaults.vaults.get_deleted("py-vault", "local")
    recover = VaultProperties(tenant_id=dev["tenantId"], sku=Sku(family="A", name="standard"), create_mode="recover")
    recovered = vaults.vaults.begin_create_or_update(
        GROUP, "py-vault", VaultCreateOrUpdateParameters(location="local", properties=recover)
    ).result()
    recovered_policies = len(recovered.properties.access_policies)
    vaults.vaults.delete(GROUP, "py-vault")
    purge = vaults.vaults.begin_purge_deleted("py-vault", "local")
    purge.result()
    after_purge = [v.name for v in vaults.vaults.list_deleted()]
    groups.resource_groups.begin_delete(GROUP).result()
    return {
        "subscriptions": listed,
        "tenants": tenants,
        "groupExists": group_exists,
        "pollerStatus": poller.status(),
        "created": {"id": created.id, "vaultUri": created.properties.vault_uri, "tags": created.tags},
        "updatedTags": updated.tags,
        "policies": [
            {"objectId": p.object_id, "secrets": p.permissions.secrets} for p in fetched.properties.access_policies
        ],
        "inGroup": in_group,
        "resources": resources,
        "nameAvailable": taken.name_available,
        "afterDelete": after_delete,
        "deleted": deleted,
        "shownDeleted": {"name": shown.name, "purgeProtection": shown.properties.purge_protection_enabled},
        "recoveredTags": recovered.tags,
        "recoveredPolicies": recovered_policies,
        "purgeStatus": purge.status(),
        "afterPurge": after_purge,
        "groupExistsAfterDelete": groups.resource_groups.check_existence(GROUP),
    }


if __name__ == "__main__":
    dev = facts()
    answer(scenario(dev, credential(dev), sys.argv[1]))
