import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthenticatedPrincipal } from '../identity/types.js';
import { KeyActions, ManagementActions, SecretActions } from './actions.js';
import { actionMatches, authorize, type Grant, scopeCovers } from './authorize.js';
import { BUILTIN_ROLES } from './builtin-roles.js';
import { dataAccessChange } from './data-access-change.js';
import type { RoleDefinition } from './role-types.js';

const role = (name: string): RoleDefinition => {
  const found = BUILTIN_ROLES.find((candidate) => candidate.name === name);
  assert.ok(found, name);
  return found;
};

const alice: AuthenticatedPrincipal = {
  objectId: 'a',
  kind: 'ServicePrincipal',
  administrator: false,
  groups: [],
};
const grant = (name: string | RoleDefinition, scope: string, principalId = 'a'): Grant => ({
  role: typeof name === 'string' ? role(name) : name,
  assignment: { id: 'x', roleDefinitionId: 'r', principalId, scope, createdAt: '' },
});
const rbacVault = { name: 'v', enableRbacAuthorization: true };
const allowed = (
  principal: AuthenticatedPrincipal,
  action: string,
  scope: string,
  grants: Grant[],
  extra = {},
) => authorize(principal, action as never, scope, { grants, vault: rbacVault, ...extra }).allowed;

describe('authorize', () => {
  it('denies by default, naming the action', () => {
    const decision = authorize(alice, SecretActions.get, '/vaults/v/secrets/s', { grants: [] });
    assert.equal(decision.allowed, false);
    assert.match(decision.reason, /getSecret\/action/);
    assert.equal(allowed(alice, ManagementActions.writeVaults, '/', []), false);
  });

  it('matches wildcards case-insensitively, slashes included', () => {
    assert.ok(
      actionMatches('Microsoft.KeyVault/vaults/*', 'microsoft.keyvault/VAULTS/secrets/getSecret/action'),
    );
    assert.ok(actionMatches('Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/keys/read'));
    assert.ok(!actionMatches('Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/read'));
    assert.ok(!actionMatches('Microsoft.KeyVault/vaults/secrets', 'Microsoft.KeyVault/vaults/secretsX'));
    assert.ok(!actionMatches('Microsoft.KeyVault/vaults.secrets', 'Microsoft.KeyVault/vaultsXsecrets'));
  });

  it('grants what the role grants at the scope and below, never above or beside', () => {
    const grants = [grant('Key Vault Secrets User', '/vaults/v/secrets/a')];
    assert.ok(allowed(alice, SecretActions.get, '/vaults/v/secrets/a', grants));
    assert.ok(!allowed(alice, SecretActions.get, '/vaults/v/secrets/b', grants));
    assert.ok(!allowed(alice, SecretActions.readMetadata, '/vaults/v', grants));
    assert.ok(!allowed(alice, SecretActions.set, '/vaults/v/secrets/a', grants));
    const wide = [grant('Key Vault Secrets User', '/')];
    assert.ok(allowed(alice, SecretActions.get, '/vaults/other/secrets/z', wide));
    assert.ok(scopeCovers('/vaults/v', '/vaults/v/keys/k'));
    assert.ok(!scopeCovers('/vaults/v', '/vaults/vx/keys/k'));
  });

  it('subtracts notDataActions and notActions', () => {
    const custom: RoleDefinition = {
      ...role('Key Vault Secrets Officer'),
      dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
      notDataActions: ['Microsoft.KeyVault/vaults/secrets/purge/action'],
    };
    const grants = [grant(custom, '/vaults/v')];
    assert.ok(allowed(alice, SecretActions.delete, '/vaults/v/secrets/s', grants));
    assert.ok(!allowed(alice, SecretActions.purge, '/vaults/v/secrets/s', grants));
    const contributor = [grant('Key Vault Contributor', '/')];
    assert.ok(allowed(alice, ManagementActions.writeVaults, '/vaults/v', contributor));
    assert.ok(!allowed(alice, 'Microsoft.KeyVault/locations/deletedVaults/purge/action', '/', contributor));
  });

  it('counts the assignments of the principal’s groups, not of others', () => {
    const grants = [grant('Key Vault Crypto User', '/vaults/v', 'group-1')];
    assert.ok(!allowed(alice, KeyActions.sign, '/vaults/v/keys/k', grants));
    assert.ok(allowed({ ...alice, groups: ['GROUP-1'] }, KeyActions.sign, '/vaults/v/keys/k', grants));
    assert.ok(
      !allowed(alice, KeyActions.sign, '/vaults/v/keys/k', [grant('Key Vault Crypto User', '/', 'b')]),
    );
  });

  it('keeps data and management actions apart', () => {
    const contributor = [grant('Key Vault Contributor', '/')];
    assert.ok(!allowed(alice, SecretActions.get, '/vaults/v/secrets/s', contributor));
    assert.ok(!allowed(alice, SecretActions.readMetadata, '/vaults/v', contributor));
    const administrator = [grant('Key Vault Administrator', '/')];
    assert.ok(allowed(alice, SecretActions.purge, '/vaults/v/secrets/s', administrator));
    assert.ok(!allowed(alice, ManagementActions.writeVaults, '/vaults/v', administrator));
    assert.ok(!allowed(alice, ManagementActions.writeRoleAssignments, '/vaults/v', administrator));
    // The installation administrator flag: every management action, no data action.
    const installationAdmin = { ...alice, administrator: true };
    assert.ok(allowed(installationAdmin, ManagementActions.operate, '/', []));
    assert.ok(!allowed(installationAdmin, SecretActions.get, '/vaults/v/secrets/s', []));
  });

  it('applies the Data Access Administrator condition to the role being assigned', () => {
    const grants = [grant('Key Vault Data Access Administrator', '/vaults/v')];
    const write = ManagementActions.writeRoleAssignments;
    const secretsUser = role('Key Vault Secrets User').id;
    const contributor = role('Key Vault Contributor').id;
    assert.ok(allowed(alice, write, '/vaults/v', grants, { roleDefinitionId: secretsUser }));
    assert.ok(!allowed(alice, write, '/vaults/v', grants, { roleDefinitionId: contributor }));
    assert.ok(!allowed(alice, write, '/vaults/w', grants, { roleDefinitionId: secretsUser }));
    assert.ok(allowed(alice, ManagementActions.readRoleAssignments, '/vaults/v', grants));
  });

  it('lets only who may grant Key Vault Administrator change a vault’s model or access policies', () => {
    const change = dataAccessChange('/vaults/v');
    const may = (principal: AuthenticatedPrincipal, grants: Grant[]) =>
      allowed(principal, change.action, change.scope, grants, { roleDefinitionId: change.roleDefinitionId });
    assert.ok(may(alice, [grant('Key Vault Data Access Administrator', '/vaults/v')]));
    assert.ok(may({ ...alice, administrator: true }, []));
    const owner: RoleDefinition = {
      ...role('Key Vault Reader'),
      id: 'owner',
      actions: ['*'],
      notActions: [],
    };
    assert.ok(may(alice, [grant(owner, '/')]));
    // A management role never reaches data by changing the rules, even at the widest scope.
    assert.ok(!may(alice, [grant('Key Vault Contributor', '/')]));
    assert.ok(!may(alice, [grant('Key Vault Data Access Administrator', '/vaults/w')]));
    // A condition that lets a role hand out only lesser roles does not let it open the whole vault.
    const narrow: RoleDefinition = {
      ...role('Key Vault Data Access Administrator'),
      id: 'narrow',
      assignableRoleIds: [role('Key Vault Secrets User').id],
    };
    assert.ok(!may(alice, [grant(narrow, '/vaults/v')]));
  });

  it('lets access policies decide data actions in a vault that does not use RBAC', () => {
    const vault = {
      name: 'p',
      enableRbacAuthorization: false,
      accessPolicies: [{ objectId: 'a', permissions: { secrets: ['get'], keys: [], certificates: [] } }],
    };
    const administrator = [grant('Key Vault Administrator', '/')];
    const decide = (action: string) =>
      authorize(alice, action as never, '/vaults/p/secrets/s', { grants: administrator, vault }).allowed;
    assert.ok(decide(SecretActions.get));
    assert.ok(!decide(SecretActions.set), 'roles do not apply in an access-policy vault');
  });

  it('says what granted, for the audit record: the assignment, the policy, or the administrator flag', () => {
    const grants = [grant('Key Vault Secrets User', '/vaults/v')];
    const byRole = authorize(alice, SecretActions.get, '/vaults/v/secrets/s', { grants, vault: rbacVault });
    assert.deepEqual(byRole.grantedBy, {
      kind: 'role',
      assignmentId: 'x',
      roleDefinitionId: role('Key Vault Secrets User').id,
      roleName: 'Key Vault Secrets User',
      scope: '/vaults/v',
    });
    assert.equal(byRole.model, 'rbac');
    const vault = {
      name: 'p',
      enableRbacAuthorization: false,
      accessPolicies: [
        { objectId: 'group-9', permissions: { secrets: ['get'], keys: [], certificates: [] } },
      ],
    };
    const byPolicy = authorize({ ...alice, groups: ['group-9'] }, SecretActions.get, '/vaults/p/secrets/s', {
      grants: [],
      vault,
    });
    assert.deepEqual(
      [byPolicy.model, byPolicy.grantedBy],
      ['accessPolicy', { kind: 'accessPolicy', objectId: 'group-9' }],
    );
    const refused = authorize(alice, SecretActions.set, '/vaults/p/secrets/s', { grants: [], vault });
    assert.deepEqual([refused.allowed, refused.model, refused.grantedBy], [false, 'accessPolicy', undefined]);
    const admin = authorize({ ...alice, administrator: true }, ManagementActions.readVaults, '/', {
      grants: [],
    });
    assert.deepEqual(admin.grantedBy, { kind: 'administrator' });
  });
});
