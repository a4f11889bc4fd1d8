import { type Command, InvalidArgumentError, Option } from 'commander';
import { resolveConnection, type ConnectionFlags } from '../connection.js';
import { CliError } from '../errors.js';
import { outputFormat } from '../options.js';
import { asRecord, printDone, printResult } from '../output.js';
import { writePrivateFile } from '../files.js';
import { createVaultClient, type VaultClient, vaultUrlFor, vaultUrlOfId } from '../vault-client.js';
import { type Action, leaf } from './leaf.js';

/**
 * What every data-plane command shares, with az's option names: the vault (`--vault-name` or an
 * `--id` URL), the object (`--name`, `--version`), attributes (`--expires`, `--not-before`,
 * `--tags k=v ...`) and the helpers that turn them into a client and a request body.
 */

export type Collection = 'secrets' | 'keys' | 'certificates';

/** A data-plane subcommand: the shared connection and output options plus `--vault-name`. */
export function dataLeaf(parent: Command, name: string, description: string, action: Action): Command {
  return leaf(parent, name, description, action).option('--vault-name <name>', 'name of the vault');
}

/** `--name`, `--version` and `--id`, for commands about one object. */
export function addObjectOptions(command: Command, noun: string, withVersion = true): Command {
  command.option('-n, --name <name>', `name of the ${noun}`);
  if (withVersion) command.option('-v, --version <version>', `version of the ${noun} (default: the latest)`);
  return command.option(
    '--id <url>',
    `id of the ${noun} (https://VAULT.../${noun}s/NAME[/VERSION]); replaces --vault-name and --name`,
  );
}

interface TargetOptions {
  vaultName?: string;
  name?: string;
  version?: string;
  id?: string;
}

export interface ObjectTarget {
  client: VaultClient;
  name: string;
  version?: string;
}

/** The vault a list-style command works on: `--vault-name`, or `--id` with the vault's URL. */
export function vaultTarget(command: Command): VaultClient {
  const options = command.opts<TargetOptions>();
  const connection = resolveConnection(command.opts<ConnectionFlags>());
  if (options.id !== undefined)
    return createVaultClient(connection, vaultUrlOfId(connection, options.id).vaultUrl);
  if (options.vaultName === undefined)
    throw new CliError('which vault? Pass --vault-name NAME (see `coffer vault list`).');
  return createVaultClient(connection, vaultUrlFor(connection, options.vaultName));
}

/**
 * The object a command names: `--vault-name` and `--name` (and `--version`), or `--id`, whose
 * first path segment must be one of `collections` (e.g. `secrets` or `deletedsecrets`).
 */
export function objectTarget(command: Command, collections: readonly string[]): ObjectTarget {
  const options = command.opts<TargetOptions>();
  const connection = resolveConnection(command.opts<ConnectionFlags>());
  if (options.id !== undefined) {
    if (options.name !== undefined || options.vaultName !== undefined)
      throw new CliError('pass either --id, or --vault-name and --name; not both.');
    const { vaultUrl, segments } = vaultUrlOfId(connection, options.id);
    const [collection, name, version] = segments;
    if (collection === undefined || !collections.includes(collection.toLowerCase()) || name === undefined) {
      throw new CliError(
        `--id '${options.id}' is not the id of one of ${collections.join(' or ')}. Copy it from a \`show\` or \`list\` answer.`,
      );
    }
    const target: ObjectTarget = { client: createVaultClient(connection, vaultUrl), name };
    const chosen = options.version ?? version;
    if (chosen !== undefined) target.version = chosen;
    return target;
  }
  if (options.vaultName === undefined || options.name === undefined) {
    throw new CliError('which object? Pass --vault-name VAULT and --name NAME, or --id URL.');
  }
  const target: ObjectTarget = {
    client: createVaultClient(connection, vaultUrlFor(connection, options.vaultName)),
    name: options.name,
  };
  if (options.version !== undefined) target.version = options.version;
  return target;
}

/** `/secrets/NAME[/VERSION]` */
export function objectPath(collection: string, target: Pick<ObjectTarget, 'name' | 'version'>): string {
  const base = `/${collection}/${encodeURIComponent(target.name)}`;
  return target.version === undefined ? base : `${base}/${encodeURIComponent(target.version)}`;
}

/** `--expires`, `--not-before` (and `--disabled`, for creating commands). */
export function addAttributeOptions(command: Command, creating: boolean): Command {
  command
    .option('--expires <date>', 'expiry, ISO 8601 (e.g. 2030-01-31T00:00:00Z)', parseDate)
    .option('--not-before <date>', 'not valid before, ISO 8601', parseDate)
    .option('--tags <tag...>', 'space-separated tags: key[=value]; "" clears them');
  if (creating) command.option('--disabled', 'create it disabled');
  else command.addOption(new Option('--enabled <bool>', 'enable or disable it').choices(['true', 'false']));
  return command;
}

interface AttributeOptions {
  expires?: number;
  notBefore?: number;
  disabled?: boolean;
  enabled?: 'true' | 'false';
  tags?: string[];
}

/** The `attributes` and `tags` members of a request body, from whichever options were given. */
export function attributesBody(command: Command): {
  attributes?: Record<string, unknown>;
  tags?: Record<string, string>;
} {
  const options = command.opts<AttributeOptions>();
  const attributes: Record<string, unknown> = {};
  if (options.expires !== undefined) attributes['exp'] = options.expires;
  if (options.notBefore !== undefined) attributes['nbf'] = options.notBefore;
  if (options.disabled) attributes['enabled'] = false;
  if (options.enabled !== undefined) attributes['enabled'] = options.enabled === 'true';
  const body: { attributes?: Record<string, unknown>; tags?: Record<string, string> } = {};
  if (Object.keys(attributes).length > 0) body.attributes = attributes;
  if (options.tags !== undefined) body.tags = parseTags(options.tags);
  return body;
}

/** az's `--tags a=1 b=2`; `--tags ""` means no tags. */
export function parseTags(words: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const word of words) {
    if (word === '') continue;
    const equals = word.indexOf('=');
    const key = equals < 0 ? word : word.slice(0, equals);
    if (key === '') throw new CliError(`--tags '${word}' has no key. Write --tags key=value ...`);
    tags[key] = equals < 0 ? '' : word.slice(equals + 1);
  }
  return tags;
}

function parseDate(text: string): number {
  const millis = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(millis)) {
    throw new InvalidArgumentError('Use an ISO 8601 date such as 2030-01-31 or 2030-01-31T12:00:00Z.');
  }
  return Math.floor(millis / 1000);
}

export function parseCount(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new InvalidArgumentError('Use a whole number of 1 or more.');
  return value;
}

/** Prints a server answer in az's shape: the answer reshaped, and the table `render` makes of it. */
export function printShaped(
  command: Command,
  answer: unknown,
  shape: (value: unknown) => Record<string, unknown>,
  render: (value: Record<string, unknown>) => string,
): void {
  const shaped = shape(answer);
  printResult(outputFormat(command), shaped, () => render(shaped));
}

/** `--file` and `--overwrite` of a `download` command. */
export function addDownloadOptions(command: Command): Command {
  return command
    .requiredOption('-f, --file <path>', 'the file to write (mode 0600); refused if it exists')
    .option('--overwrite', 'replace the file if it exists');
}

/**
 * `download`: reads the object (its latest version, or --version), turns it into the file's
 * bytes, and writes them with mode 0600 to `--file`. `toFile` answers the bytes and a note on
 * their format for the confirmation line.
 */
export async function downloadObject(
  command: Command,
  collection: Collection,
  toFile: (bundle: Record<string, unknown>, name: string) => { data: string | Uint8Array; format: string },
): Promise<void> {
  const { file, overwrite } = command.opts<{ file: string; overwrite?: boolean }>();
  const target = objectTarget(command, [collection]);
  const { data, format } = toFile(
    asRecord(await target.client.call('GET', objectPath(collection, target))),
    target.name,
  );
  writePrivateFile(file, data, { overwrite: overwrite === true });
  printDone(
    outputFormat(command),
    `Wrote ${collection.slice(0, -1)} '${target.name}' to ${file} (${format}).`,
  );
}
