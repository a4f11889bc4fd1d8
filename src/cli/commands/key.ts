import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { type Command, Option } from 'commander';
import { azShape } from '../az-shape.js';
import { CliError } from '../errors.js';
import { readJsonArgument } from '../files.js';
import { asRecord } from '../output.js';
import { renderProperties } from '../table.js';
import { parseInteger } from '../options.js';
import {
  addAttributeOptions,
  addObjectOptions,
  attributesBody,
  dataLeaf,
  objectPath,
  objectTarget,
  printShaped,
  addDownloadOptions,
  downloadObject,
} from './data-plane.js';
import { registerKeyCrypto } from './key-crypto.js';
import { registerKeyImport } from './key-import.js';
import { registerObjectVerbs } from './object-verbs.js';
import { renderWithCommon } from './object-tables.js';

/**
 * `coffer key ...`, as `az keyvault key`: create, import, show, list, set-attributes, rotate,
 * rotation-policy, the cryptographic operations, download (the public key) and the lifecycle
 * verbs every object has. Private key material never leaves the server.
 */

export const KEY_TYPES = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct', 'oct-HSM'] as const;
export const CURVES = ['P-256', 'P-256K', 'P-384', 'P-521'] as const;
export const KEY_OPS = [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'wrapKey',
  'unwrapKey',
  'import',
  'export',
] as const;

export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description("a vault's keys, as `az keyvault key`");

  addKeyShapeOptions(
    addAttributeOptions(
      dataLeaf(key, 'create', 'create a key or a new version of it', createAction)
        .option('-n, --name <name>', 'name of the key')
        .addOption(new Option('--kty <type>', 'key type (default RSA)').choices(KEY_TYPES))
        .option(
          '--size <bits>',
          'RSA size (2048, 3072, 4096) or oct size (128, 192, 256)',
          parseInteger(128, 4096),
        )
        .addOption(new Option('--curve <curve>', 'elliptic curve of an EC key').choices(CURVES)),
      true,
    ),
  );

  registerKeyImport(key);
  registerObjectVerbs(key, {
    noun: 'key',
    collection: 'keys',
    deleted: 'deletedkeys',
    renderShow: renderKey,
    listFlag: { option: '--include-managed', description: 'include the keys of certificates' },
  });

  addKeyShapeOptions(
    addAttributeOptions(
      addObjectOptions(
        dataLeaf(
          key,
          'set-attributes',
          "change a key version's attributes, operations or tags",
          async ({ command }) => {
            const target = objectTarget(command, ['keys']);
            const body: Record<string, unknown> = { ...attributesBody(command), ...opsBody(command) };
            if (Object.keys(body).length === 0)
              throw new CliError(
                'nothing to change. Pass --enabled, --expires, --not-before, --ops or --tags.',
              );
            printShaped(
              command,
              await target.client.call('PATCH', objectPath('keys', target), body),
              azShape,
              renderKey,
            );
          },
        ),
        'key',
      ),
      false,
    ),
    false,
  );

  addObjectOptions(
    dataLeaf(key, 'rotate', 'rotate a key now: a new version with the same settings', async ({ command }) => {
      const target = objectTarget(command, ['keys']);
      printShaped(
        command,
        await target.client.call('POST', `${objectPath('keys', { name: target.name })}/rotate`),
        azShape,
        renderKey,
      );
    }),
    'key',
    false,
  );

  const policy = key.command('rotation-policy').description("a key's automatic rotation policy");
  addObjectOptions(
    dataLeaf(policy, 'show', "show a key's rotation policy", async ({ command }) => {
      const target = objectTarget(command, ['keys']);
      printShaped(
        command,
        await target.client.call('GET', `${objectPath('keys', { name: target.name })}/rotationpolicy`),
        azShape,
        renderPolicy,
      );
    }),
    'key',
    false,
  );
  addObjectOptions(
    dataLeaf(policy, 'update', "replace a key's rotation policy", async ({ command }) => {
      const { value } = command.opts<{ value: string }>();
      const body = readJsonArgument(
        value,
        '--value',
        '{"lifetimeActions": [...], "attributes": {"expiryTime": "P2Y"}}',
      );
      const target = objectTarget(command, ['keys']);
      const path = `${objectPath('keys', { name: target.name })}/rotationpolicy`;
      printShaped(command, await target.client.call('PUT', path, body), azShape, renderPolicy);
    }).requiredOption('--value <json>', "the policy: @FILE.json or inline JSON, in Key Vault's shape"),
    'key',
    false,
  );

  addObjectOptions(
    addDownloadOptions(
      dataLeaf(
        key,
        'download',
        'write the public key to a file (PEM or DER, mode 0600)',
        downloadAction,
      ).addOption(
        new Option('-e, --encoding <encoding>', 'PEM or DER (default PEM)')
          .choices(['PEM', 'DER'])
          .default('PEM'),
      ),
    ),
    'key',
  );

  registerKeyCrypto(key);
}

/** `--ops` and `--protection`, shared by create, import and set-attributes. */
export function addKeyShapeOptions(command: Command, withProtection = true): Command {
  command.addOption(new Option('--ops <operation...>', 'permitted operations').choices(KEY_OPS));
  if (withProtection)
    command.addOption(
      new Option('--protection <where>', 'hsm turns RSA, EC and oct into their -HSM types').choices([
        'software',
        'hsm',
      ]),
    );
  return command;
}

export function opsBody(command: Command): { key_ops?: string[] } {
  const { ops } = command.opts<{ ops?: string[] }>();
  return ops === undefined ? {} : { key_ops: ops };
}

/** The key type with `--protection hsm` applied, as az does. */
export function keyType(kty: string, protection: string | undefined): string {
  return protection === 'hsm' && !kty.endsWith('-HSM') ? `${kty}-HSM` : kty;
}

async function createAction({ command }: { command: Command }): Promise<void> {
  const options = command.opts<{
    name?: string;
    kty?: string;
    size?: number;
    curve?: string;
    protection?: string;
  }>();
  if (options.name === undefined) throw new CliError('which key? Pass --name NAME.');
  const kty = keyType(options.kty ?? (options.curve !== undefined ? 'EC' : 'RSA'), options.protection);
  const body: Record<string, unknown> = { kty, ...attributesBody(command), ...opsBody(command) };
  if (options.size !== undefined) body['key_size'] = options.size;
  if (options.curve !== undefined) body['crv'] = options.curve;
  const target = objectTarget(command, ['keys']);
  printShaped(
    command,
    await target.client.call('POST', `${objectPath('keys', { name: target.name })}/create`, body),
    azShape,
    renderKey,
  );
}

function downloadAction({ command }: { command: Command }): Promise<void> {
  const { encoding } = command.opts<{ encoding: 'PEM' | 'DER' }>();
  return downloadObject(command, 'keys', (bundle, name) => {
    const jwk = asRecord(bundle['key']);
    const kty = String(jwk['kty'] ?? '').replace(/-HSM$/, '');
    if (kty !== 'RSA' && kty !== 'EC') {
      throw new CliError(
        `key '${name}' is ${String(jwk['kty'])}: a symmetric key has no public part to download.`,
      );
    }
    const publicJwk: JsonWebKey =
      kty === 'RSA'
        ? { kty, n: jwk['n'] as string, e: jwk['e'] as string }
        : { kty, crv: jwk['crv'] as string, x: jwk['x'] as string, y: jwk['y'] as string };
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' });
    const data =
      encoding === 'DER'
        ? publicKey.export({ type: 'spki', format: 'der' })
        : publicKey.export({ type: 'spki', format: 'pem' });
    return { data, format: `public key, ${encoding}` };
  });
}

export function renderKey(value: Record<string, unknown>): string {
  const key = asRecord(value['key']);
  return renderWithCommon(value, [
    ['Key type', key['kty']],
    [
      'Size or curve',
      key['crv'] ??
        (typeof key['n'] === 'string' ? Buffer.from(key['n'], 'base64url').length * 8 : undefined),
    ],
    ['Operations', key['key_ops']],
    ['Managed', value['managed']],
    ['Kid', key['kid']],
  ]);
}

function renderPolicy(value: Record<string, unknown>): string {
  const actions = Array.isArray(value['lifetimeActions']) ? value['lifetimeActions'].map(asRecord) : [];
  const describe = (action: Record<string, unknown>) => {
    const trigger = asRecord(action['trigger']);
    const when =
      trigger['timeAfterCreate'] !== undefined
        ? `${String(trigger['timeAfterCreate'])} after create`
        : `${String(trigger['timeBeforeExpiry'])} before expiry`;
    return `${String(asRecord(action['action'])['type'])} ${when}`;
  };
  return renderProperties([
    ['Expiry time', asRecord(value['attributes'])['expiryTime']],
    ['Actions', actions.map(describe)],
    ['ID', value['id']],
  ]);
}
