import type { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat } from '../options.js';
import { asRecord, printResult } from '../output.js';
import { renderTable } from '../table.js';
import { type Action, leaf } from './leaf.js';
import { renderVault, vaultPath } from './vault.js';

/**
 * `coffer vault network-rule ...`, `set-policy` and `delete-policy`: a vault's firewall and its
 * access policies, with `az keyvault`'s names and options (CONTRACT section 7).
 */
export function registerVaultAccessCommands(vault: Command): void {
  const networkRule = vault.command('network-rule').description("manage a vault's IP network rules");
  for (const edit of ['add', 'remove'] as const) {
    leaf(
      networkRule,
      edit,
      `${edit} an IP rule (the vault's default action applies to the rest)`,
      editRule(edit),
    )
      .argument('<name>', 'vault name')
      .requiredOption('--ip-address <cidr>', 'an address or CIDR range, IPv4 or IPv6');
  }
  leaf(networkRule, 'list', "list a vault's IP rules", listRules).argument('<name>', 'vault name');

  leaf(
    vault,
    'set-policy',
    "grant permissions in a vault's access policies (vaults not using RBAC)",
    setPolicy,
  )
    .argument('<name>', 'vault name')
    .requiredOption('--object-id <id>', "the principal's objectId or clientId")
    .option('--secret-permissions <names...>', 'get list set delete backup restore recover purge all')
    .option('--key-permissions <names...>', 'get list create import update delete sign verify ... all')
    .option('--certificate-permissions <names...>', 'get list create import update delete ... all');

  leaf(vault, 'delete-policy', "remove a principal's access policy from a vault", deletePolicy)
    .argument('<name>', 'vault name')
    .requiredOption('--object-id <id>', "the principal's objectId or clientId");
}

const editRule =
  (edit: 'add' | 'remove'): Action =>
  async ({ command, operands }) => {
    const { ipAddress } = command.opts<{ ipAddress: string }>();
    const path = `${vaultPath(operands)}/networkAcls/ipRules/${edit}`;
    const answer = await apiClientFor(command).call('POST', path, { value: ipAddress });
    printResult(outputFormat(command), answer, () => renderVault(answer));
  };

const listRules: Action = async ({ command, operands }) => {
  const acls = asRecord(
    asRecord(await apiClientFor(command).call('GET', vaultPath(operands)))['networkAcls'],
  );
  const rules = Array.isArray(acls['ipRules']) ? acls['ipRules'].map(asRecord) : [];
  printResult(outputFormat(command), acls, () =>
    [
      `Default action: ${String(acls['defaultAction'] ?? '')}`,
      renderTable(
        ['IpRule'],
        rules.map((rule) => [rule['value']]),
      ),
    ].join('\n'),
  );
};

interface PolicyOptions {
  objectId: string;
  secretPermissions?: string[];
  keyPermissions?: string[];
  certificatePermissions?: string[];
}

/** Adds to the principal's policy, as `az keyvault set-policy` does: earlier permissions stay. */
const setPolicy: Action = async ({ command, operands }) => {
  const options = command.opts<PolicyOptions>();
  const permissions = {
    secrets: options.secretPermissions ?? [],
    keys: options.keyPermissions ?? [],
    certificates: options.certificatePermissions ?? [],
  };
  if (Object.values(permissions).every((list) => list.length === 0)) {
    throw new CliError(
      'no permission given. Pass --secret-permissions, --key-permissions or --certificate-permissions.',
    );
  }
  const client = apiClientFor(command);
  const objectId = await resolveObjectId(client, options.objectId);
  await updatePolicies(client, operands, 'add', { objectId, permissions });
  const answer = await client.call('GET', vaultPath(operands));
  printResult(outputFormat(command), answer, () => renderVault(answer));
};

const deletePolicy: Action = async ({ command, operands }) => {
  const client = apiClientFor(command);
  const objectId = await resolveObjectId(client, command.opts<PolicyOptions>().objectId);
  await updatePolicies(client, operands, 'remove', { objectId });
  const answer = await client.call('GET', vaultPath(operands));
  printResult(outputFormat(command), answer, () => renderVault(answer));
};

function updatePolicies(client: ApiClient, operands: string[], kind: string, policy: object) {
  const body = { properties: { accessPolicies: [policy] } };
  return client.call('PUT', `${vaultPath(operands)}/accessPolicies/${kind}`, body);
}

/** A clientId is as good as an objectId on the command line; policies are stored by objectId. */
async function resolveObjectId(client: ApiClient, id: string): Promise<string> {
  const principal = asRecord(await client.call('GET', `/coffer/principals/${encodeURIComponent(id)}`));
  const objectId = principal['objectId'];
  if (typeof objectId !== 'string') throw new CliError(`the server did not name the objectId of '${id}'.`);
  return objectId;
}
