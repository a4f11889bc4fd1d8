import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApiClient, createApiClient } from './api-client.js';
import { type ConnectionFlags, resolveConnection } from './connection.js';
import { OUTPUT_FORMATS, type OutputFormat, type OutputSettings } from './output.js';
import { parseQuery } from './query.js';

/** The options every command shares, and the parsers for option values. */

export function addOutputOption(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .addOption(
      new Option('--query <jmespath>', 'JMESPath query applied to the result, as az').argParser(parseQuery),
    );
}

const CONNECTION_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['--url <url>', 'server URL (env COFFER_URL)'],
  ['--tenant-id <id>', 'tenant of the client (env COFFER_TENANT_ID)'],
  ['--client-id <id>', 'client id of an administrator (env COFFER_CLIENT_ID)'],
  ['--client-secret <secret>', 'client secret (env COFFER_CLIENT_SECRET)'],
  [
    '--username <upn>',
    'sign in as this user; password from COFFER_PASSWORD or a prompt (env COFFER_USERNAME)',
  ],
  ['--ca-file <file>', 'PEM file of a CA to trust (env COFFER_CA_FILE)'],
  ['--base-domain <domain>', 'vault base domain, for the token scope (env COFFER_BASE_DOMAIN)'],
  ['--dev-data-dir <dir>', "read the connection from a dev server's DIR/dev.json"],
];

/** Grouped apart in help so each command's own options stay easy to spot. */
export function addConnectionOptions(command: Command): Command {
  for (const [flags, description] of CONNECTION_OPTIONS) {
    command.addOption(new Option(flags, description).helpGroup('Connection options:'));
  }
  return command;
}

/** `--output` and `--query` of a command (the name predates `--query`; callers pass it on). */
export function outputFormat(command: Command): OutputSettings {
  const { output, query } = command.opts<{ output: OutputFormat; query?: string }>();
  return query === undefined ? { format: output } : { format: output, query };
}

/** A client for the server the command's options, the environment or dev.json point at. */
export function apiClientFor(command: Command): ApiClient {
  return createApiClient(resolveConnection(command.opts<ConnectionFlags>()));
}

export function parseInteger(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Use a whole number from ${min} to ${max}.`);
    }
    return value;
  };
}

export function parseBoolean(text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new InvalidArgumentError('Use true or false.');
}
