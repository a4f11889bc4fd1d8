import { type Command, Option } from 'commander';
import { azShape } from '../az-shape.js';
import { CliError } from '../errors.js';
import { readInputFile } from '../files.js';
import { asRecord } from '../output.js';
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
import { registerObjectVerbs } from './object-verbs.js';
import { renderWithCommon } from './object-tables.js';
import { registerSecretImport } from './secret-import.js';

/**
 * `coffer secret ...`, as `az keyvault secret`: set, show, list, list-versions, set-attributes,
 * delete, list-deleted, show-deleted, recover, purge, backup, restore, download, and import-file
 * for many at once. A value shows in json, tsv and yaml (as az); tables never show it.
 */

/** az's `--encoding` of `secret set --file` and `secret download`, kept in the `file-encoding` tag. */
export const FILE_ENCODINGS = ['ascii', 'base64', 'hex', 'utf-8', 'utf-16be', 'utf-16le'] as const;
type FileEncoding = (typeof FILE_ENCODINGS)[number];
const ENCODING_TAG = 'file-encoding';

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description("a vault's secrets, as `az keyvault secret`");

  addAttributeOptions(
    dataLeaf(secret, 'set', 'create a secret or add a version to it', setAction)
      .option('-n, --name <name>', 'name of the secret')
      .option(
        '--value <value>',
        'the value (prefer --file: a value on the command line stays in shell history)',
      )
      .option('-f, --file <path>', 'read the value from a file (/dev/stdin for a pipe)')
      .addOption(
        encodingOption('how to store the file: base64 or hex keep binary files intact (default utf-8)'),
      )
      .option('--content-type <type>', 'a hint of what the value is, e.g. text/plain'),
    true,
  );

  registerObjectVerbs(secret, {
    noun: 'secret',
    collection: 'secrets',
    deleted: 'deletedsecrets',
    renderShow: renderSecret,
    listFlag: { option: '--include-managed', description: 'include the secrets of certificates' },
  });

  addAttributeOptions(
    addObjectOptions(
      dataLeaf(
        secret,
        'set-attributes',
        "change a secret version's attributes, content type or tags",
        async ({ command }) => {
          const target = objectTarget(command, ['secrets']);
          const body: Record<string, unknown> = attributesBody(command);
          const { contentType } = command.opts<{ contentType?: string }>();
          if (contentType !== undefined) body['contentType'] = contentType;
          if (Object.keys(body).length === 0)
            throw new CliError(
              'nothing to change. Pass --enabled, --expires, --not-before, --content-type or --tags.',
            );
          printShaped(
            command,
            await target.client.call('PATCH', objectPath('secrets', target), body),
            azShape,
            renderSecret,
          );
        },
      ).option('--content-type <type>', 'new content type'),
      'secret',
    ),
    false,
  );

  addObjectOptions(
    addDownloadOptions(
      dataLeaf(secret, 'download', "write a secret's value to a file (mode 0600)", downloadAction).addOption(
        encodingOption("how to decode the value (default: the secret's file-encoding tag, else utf-8)"),
      ),
    ),
    'secret',
  );

  registerSecretImport(secret);
}

function encodingOption(description: string): Option {
  return new Option('-e, --encoding <encoding>', description).choices(FILE_ENCODINGS);
}

function renderSecret(value: Record<string, unknown>): string {
  return renderWithCommon(value, [
    ['Content type', value['contentType']],
    ['Managed', value['managed']],
    ['Value', 'hidden in tables: use --query value -o tsv, or secret download'],
    ['ID', value['id']],
  ]);
}

interface SetOptions {
  name?: string;
  value?: string;
  file?: string;
  encoding?: FileEncoding;
  contentType?: string;
}

async function setAction({ command }: { command: Command }): Promise<void> {
  const options = command.opts<SetOptions>();
  if (options.name === undefined) throw new CliError('which secret? Pass --name NAME.');
  const body: Record<string, unknown> = { value: valueToSet(options), ...attributesBody(command) };
  if (options.file !== undefined) {
    // As az: the encoding travels with the secret, so `secret download` writes the same bytes back.
    body['tags'] = { ...asRecord(body['tags']), [ENCODING_TAG]: options.encoding ?? 'utf-8' };
  }
  if (options.contentType !== undefined) body['contentType'] = options.contentType;
  const target = objectTarget(command, ['secrets']);
  printShaped(
    command,
    await target.client.call('PUT', objectPath('secrets', target), body),
    azShape,
    renderSecret,
  );
}

function valueToSet(options: SetOptions): string {
  if (options.value !== undefined && options.file !== undefined)
    throw new CliError('pass either --value or --file, not both.');
  if (options.value !== undefined) {
    if (options.encoding !== undefined)
      throw new CliError('--encoding applies to --file only. Drop it, or pass the value with --file.');
    return options.value;
  }
  if (options.file === undefined) {
    throw new CliError(
      'no value given. Pass --value VALUE, or --file PATH (--encoding base64 for a binary file).',
    );
  }
  return encodeFile(readInputFile(options.file, '--file'), options.encoding ?? 'utf-8');
}

function encodeFile(bytes: Buffer, encoding: FileEncoding): string {
  switch (encoding) {
    case 'base64':
      return bytes.toString('base64');
    case 'hex':
      return bytes.toString('hex');
    case 'utf-16le':
      return bytes.toString('utf16le');
    case 'utf-16be':
      return Buffer.from(bytes).swap16().toString('utf16le');
    case 'ascii':
      return bytes.toString('ascii');
    case 'utf-8':
      return bytes.toString('utf8');
  }
}

function decodeValue(value: string, encoding: FileEncoding): Buffer {
  switch (encoding) {
    case 'base64':
      return Buffer.from(value, 'base64');
    case 'hex':
      if (!/^([0-9a-fA-F]{2})*$/.test(value))
        throw new CliError('the value is not hex. Pass another --encoding, e.g. utf-8.');
      return Buffer.from(value, 'hex');
    case 'utf-16le':
      return Buffer.from(value, 'utf16le');
    case 'utf-16be':
      return Buffer.from(value, 'utf16le').swap16();
    case 'ascii':
      return Buffer.from(value, 'ascii');
    case 'utf-8':
      return Buffer.from(value, 'utf8');
  }
}

function downloadAction({ command }: { command: Command }): Promise<void> {
  const { encoding } = command.opts<{ encoding?: FileEncoding }>();
  return downloadObject(command, 'secrets', (bundle) => {
    const tagged = asRecord(bundle['tags'])[ENCODING_TAG];
    const chosen =
      encoding ?? (FILE_ENCODINGS.includes(tagged as FileEncoding) ? (tagged as FileEncoding) : 'utf-8');
    return { data: decodeValue(String(bundle['value'] ?? ''), chosen), format: chosen };
  });
}
