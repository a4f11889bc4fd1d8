"""Runs one scenario against a Coffer dev server with Debian's python3-azure; prints its findings as JSON.

Usage: python3 scenario.py NAME [ARG...]   (COFFER_DEV_DATA_DIR and REQUESTS_CA_BUNDLE set by the test)
"""
import base64
import hashlib
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from azure.core.exceptions import HttpResponseError
from azure.keyvault.administration import KeyVaultAccessControlClient, KeyVaultRoleScope
from azure.keyvault.administration import KeyVaultBackupClient, KeyVaultSettingsClient
from azure.keyvault.administration import _version as administration_version
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.certificates import _version as certificates_version
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys import _version as keys_version
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets import _version as secrets_version

from coffer_sdk import answer, credential, facts

b64 = lambda data: base64.b64encode(data).decode("ascii")  # noqa: E731


def versions(dev, cred):
    return {
        "secrets": secrets_version.VERSION,
        "keys": keys_version.VERSION,
        "certificates": certificates_version.VERSION,
        "administration": administration_version.VERSION,
    }


def secrets(dev, cred):
    client = SecretClient(dev["vaultUrl"], cred)
    first = client.set_secret("py-secret", "from python", content_type="text/plain", tags={"lang": "python"})
    second = client.set_secret("py-secret", "second value")
    latest = client.get_secret("py-secret")
    older = client.get_secret("py-secret", first.properties.version)
    updated = client.update_secret_properties("py-secret", first.properties.version, enabled=False)
    versions = sorted(p.version for p in client.list_properties_of_secret_versions("py-secret"))
    names = sorted(p.name for p in client.list_properties_of_secrets())
    backup = client.backup_secret("py-secret")
    deleted = client.begin_delete_secret("py-secret").result()
    deleted_again = client.get_deleted_secret("py-secret")
    recovered = client.begin_recover_deleted_secret("py-secret").result()
    client.begin_delete_secret("py-secret").result()
    client.purge_deleted_secret("py-secret")
    restored = client.restore_secret_backup(backup)
    return {
        "latest": latest.value,
        "older": older.value,
        "contentType": older.properties.content_type,
        "tags": older.properties.tags,
        "olderEnabledAfterUpdate": updated.enabled,
        "versions": versions,
        "expectedVersions": sorted([first.properties.version, second.properties.version]),
        "names": names,
        "deletedRecoveryId": deleted.recovery_id,
        "deletedAgainName": deleted_again.name,
        "recoveredName": recovered.name,
        "restoredValue": client.get_secret(restored.name).value,
    }


def keys(dev, cred):
    client = KeyClient(dev["vaultUrl"], cred)
    rsa = client.create_rsa_key("py-rsa", size=2048)
    ec_key = client.create_ec_key("py-ec", curve="P-256")
    updated = client.update_key_properties("py-ec", tags={"lang": "python"})
    rotated = client.rotate_key("py-rsa")
    names = sorted(p.name for p in client.list_properties_of_keys())
    deleted = client.begin_delete_key("py-ec").result()
    recovered = client.begin_recover_deleted_key("py-ec").result()
    jwk = lambda key, field: b64(getattr(key.key, field))  # noqa: E731
    return {
        "rsa": {"id": rsa.id, "kty": rsa.key_type, "n": jwk(rsa, "n"), "e": jwk(rsa, "e")},
        "ec": {"id": ec_key.id, "crv": ec_key.key.crv, "x": jwk(ec_key, "x"), "y": jwk(ec_key, "y")},
        "ecTags": updated.properties.tags,
        "rotatedVersionDiffers": rotated.properties.version != rsa.properties.version,
        "names": names,
        "deletedRecoveryId": deleted.recovery_id,
        "recoveredName": recovered.name,
        "rotatedId": rotated.id,
    }


def crypto(dev, cred, rsa_id, ec_id, ciphertext_b64):
    """Private-key operations run in the vault; their results are checked by node:crypto and here by `cryptography`."""
    rsa = CryptographyClient(rsa_id, cred)
    decrypted = rsa.decrypt(EncryptionAlgorithm.rsa_oaep_256, base64.b64decode(ciphertext_b64))
    roundtrip = rsa.encrypt(EncryptionAlgorithm.rsa_oaep, b"round trip through python")
    back = rsa.decrypt(EncryptionAlgorithm.rsa_oaep, roundtrip.ciphertext)
    digest = hashlib.sha256(b"signed from python").digest()
    rs256 = rsa.sign(SignatureAlgorithm.rs256, digest)
    ec_client = CryptographyClient(ec_id, cred)
    es256 = ec_client.sign(SignatureAlgorithm.es256, digest)
    verified_remote = ec_client.verify(SignatureAlgorithm.es256, digest, es256.signature).is_valid
    # Independently of the SDK: Key Vault's ES256 signature is r || s; `cryptography` wants DER.
    public = KeyClient(dev["vaultUrl"], cred).get_key(ec_id.split("/")[4]).key
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(public.x, "big"), int.from_bytes(public.y, "big"), ec.SECP256R1()
    )
    r, s = es256.signature[:32], es256.signature[32:]
    numbers.public_key().verify(
        utils.encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big")),
        digest,
        ec.ECDSA(utils.Prehashed(hashes.SHA256())),
    )
    return {
        "decrypted": decrypted.plaintext.decode("utf-8"),
        "roundtrip": back.plaintext.decode("utf-8"),
        "rs256": b64(rs256.signature),
        "es256": b64(es256.signature),
        "es256VerifiedByVault": verified_remote,
        "es256VerifiedByCryptography": True,
    }


def certificates(dev, cred):
    client = CertificateClient(dev["vaultUrl"], cred)
    policy = CertificatePolicy(
        issuer_name="Self", subject="CN=py-cert", san_dns_names=["py.example"], validity_in_months=6
    )
    created = client.begin_create_certificate("py-cert", policy).result()
    pending = client.begin_create_certificate(
        "py-pending", CertificatePolicy(issuer_name="Unknown", subject="CN=py-pending")
    )
    operation = client.get_certificate_operation("py-pending")
    listed = sorted(p.name for p in client.list_properties_of_certificates())
    with_pending = sorted(p.name for p in client.list_properties_of_certificates(include_pending=True))
    fetched = client.get_certificate("py-cert")
    return {
        "createdType": type(created).__name__,
        "cer": b64(created.cer),
        "version": created.properties.version,
        "fetchedVersion": fetched.properties.version,
        "subject": created.policy.subject,
        "dnsNames": created.policy.san_dns_names,
        "pendingStatus": operation.status,
        "pendingCsr": b64(operation.csr),
        "pendingPollerDone": pending.done(),
        "listed": listed,
        "listedWithPending": with_pending,
    }


def rbac(dev, cred, principal_id):
    client = KeyVaultAccessControlClient(dev["vaultUrl"], cred)
    definitions = list(client.list_role_definitions(KeyVaultRoleScope.GLOBAL))
    secrets_user = next(d for d in definitions if d.role_name == "Key Vault Secrets User")
    assignment = client.create_role_assignment(KeyVaultRoleScope.GLOBAL, secrets_user.id, principal_id)
    fetched = client.get_role_assignment(KeyVaultRoleScope.GLOBAL, assignment.name)
    listed = [a.name for a in client.list_role_assignments(KeyVaultRoleScope.GLOBAL)]
    return {
        "definitionNames": sorted(d.role_name for d in definitions),
        "secretsUserId": secrets_user.id,
        "assignmentName": assignment.name,
        "assignmentPrincipal": fetched.properties.principal_id,
        "assignmentRole": fetched.properties.role_definition_id,
        "assignmentScope": fetched.properties.scope,
        "listed": assignment.name in listed,
    }


def rbac_delete(dev, cred, assignment_name):
    client = KeyVaultAccessControlClient(dev["vaultUrl"], cred)
    client.delete_role_assignment(KeyVaultRoleScope.GLOBAL, assignment_name)
    listed = [a.name for a in client.list_role_assignments(KeyVaultRoleScope.GLOBAL)]
    return {"listed": assignment_name in listed}


def read_secret(dev, _cred, client_id, client_secret, name):
    """As another principal: what a role assignment made through Python grants."""
    client = SecretClient(dev["vaultUrl"], credential(dev, client_id, client_secret))
    return {"value": client.get_secret(name).value}


def settings(dev, cred, vault_url):
    client = KeyVaultSettingsClient(vault_url, cred)
    listed = [{"name": s.name, "value": s.value, "type": s.type} for s in client.list_settings()]
    one = client.get_setting("AllowKeyManagementOperationsThroughARM")
    try:
        client.update_setting("AllowKeyManagementOperationsThroughARM", "true")
        refused = None
    except HttpResponseError as error:
        refused = {"status": error.status_code, "message": error.message}
    return {"listed": listed, "one": {"name": one.name, "value": one.value}, "refused": refused}


def full_backup(dev, cred, vault_url, storage_uri):
    # The SAS token is required by this SDK's signature; Coffer's storage is a file: URL, no token.
    result = KeyVaultBackupClient(vault_url, cred).begin_backup(storage_uri, "no-sas-token").result()
    return {"folderUrl": result.folder_url}


def full_restore(dev, cred, vault_url, folder_url, key_name=None):
    client = KeyVaultBackupClient(vault_url, cred)
    kwargs = {"key_name": key_name} if key_name else {}
    try:
        client.begin_restore(folder_url, "no-sas-token", **kwargs).result()
        return {"restored": True}
    except HttpResponseError as error:
        return {"restored": False, "status": error.status_code, "message": error.message}


SCENARIOS = {
    "versions": versions,
    "secrets": secrets,
    "keys": keys,
    "crypto": crypto,
    "certificates": certificates,
    "rbac": rbac,
    "rbac-delete": rbac_delete,
    "read-secret": read_secret,
    "settings": settings,
    "full-backup": full_backup,
    "full-restore": full_restore,
}

if __name__ == "__main__":
    dev = facts()
    answer(SCENARIOS[sys.argv[1]](dev, credential(dev), *sys.argv[2:]))
