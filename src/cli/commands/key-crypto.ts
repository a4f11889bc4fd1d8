import { type Command, Option } from 'commander';
import { CliError } from '../errors.js';
import { outputFormat } from '../options.js';
import { asRecord, printResult } from '../output.js';
import { renderProperties } from '../table.js';
import { addObjectOptions, dataLeaf, objectPath, objectTarget } from './data-plane.js';

/**
 * `coffer key encrypt|decrypt|sign|verify`, as az: the operation runs on the server with the
 * vault's key; binary values travel as base64 on the command line and in the answer
 * (`{"algorithm", "kid", "result"}`, `{"signature"}`, `{"isValid"}`).
 */

const CIPHER_ALGORITHMS = [
  'RSA-OAEP',
  'RSA-OAEP-256',
  'RSA1_5',
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC',
  'A192CBC',
  'A256CBC',
  'A128CBCPAD',
  'A192CBCPAD',
  'A256CBCPAD',
];
const SIGN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES256K',
  'ES384',
  'ES512',
];

export function registerKeyCrypto(key: Command): void {
  cipherCommand(key, 'encrypt', 'encrypt a value with a key')
    .option('--value <value>', 'the data to encrypt (base64, or text with --data-type plaintext)')
    .addOption(
      new Option('--data-type <type>', 'how --value is written')
        .choices(['base64', 'plaintext'])
        .default('base64'),
    );
  cipherCommand(key, 'decrypt', 'decrypt a value with a key')
    .option('--value <base64>', 'the ciphertext, base64 (the result of encrypt)')
    .option('--tag <base64>', 'the authentication tag of an AES-GCM ciphertext')
    .addOption(
      new Option('--data-type <type>', 'how to print the result')
        .choices(['base64', 'plaintext'])
        .default('base64'),
    );

  signCommand(key, 'sign', 'sign a digest with a key');
  signCommand(key, 'verify', 'verify a signature of a digest with a key').option(
    '--signature <base64>',
    'the signature, base64',
  );
}

function cipherCommand(key: Command, verb: 'encrypt' | 'decrypt', description: string): Command {
  return addObjectOptions(
    dataLeaf(key, verb, description, async ({ command }) => {
      const options = command.opts<{
        algorithm: string;
        value?: string;
        dataType: 'base64' | 'plaintext';
        iv?: string;
        aad?: string;
        tag?: string;
      }>();
      if (options.value === undefined)
        throw new CliError(`no value to ${verb}. Pass --value (base64, or text with --data-type plaintext).`);
      const value =
        verb === 'encrypt' && options.dataType === 'plaintext'
          ? Buffer.from(options.value, 'utf8')
          : base64Option(options.value, '--value');
      const body: Record<string, unknown> = { alg: options.algorithm, value: value.toString('base64url') };
      for (const field of ['iv', 'aad', 'tag'] as const) {
        const given = options[field];
        if (given !== undefined) body[field] = base64Option(given, `--${field}`).toString('base64url');
      }
      const target = objectTarget(command, ['keys']);
      const answer = asRecord(
        await target.client.call('POST', `${objectPath('keys', target)}/${verb}`, body),
      );
      const output = Buffer.from(String(answer['value'] ?? ''), 'base64url');
      const result: Record<string, unknown> = {
        algorithm: options.algorithm,
        kid: answer['kid'],
        result:
          verb === 'decrypt' && options.dataType === 'plaintext'
            ? output.toString('utf8')
            : output.toString('base64'),
      };
      for (const field of ['iv', 'tag', 'aad'] as const) {
        if (typeof answer[field] === 'string')
          result[field] = Buffer.from(answer[field], 'base64url').toString('base64');
      }
      printResult(outputFormat(command), result, () => renderProperties(Object.entries(result)));
    })
      .addOption(
        new Option('-a, --algorithm <alg>', 'the algorithm').choices(CIPHER_ALGORITHMS).makeOptionMandatory(),
      )
      .option('--iv <base64>', 'initialization vector (AES-CBC; AES-GCM decrypt)')
      .option('--aad <base64>', 'additional authenticated data (AES-GCM)'),
    'key',
  );
}

function signCommand(key: Command, verb: 'sign' | 'verify', description: string): Command {
  return addObjectOptions(
    dataLeaf(key, verb, description, async ({ command }) => {
      const options = command.opts<{ algorithm: string; digest?: string; signature?: string }>();
      if (options.digest === undefined)
        throw new CliError(
          `no digest to ${verb}. Pass --digest: the base64 hash of the data (e.g. SHA-256 for RS256).`,
        );
      const body: Record<string, unknown> = {
        alg: options.algorithm,
        value: base64Option(options.digest, '--digest').toString('base64url'),
      };
      if (verb === 'verify') {
        if (options.signature === undefined)
          throw new CliError('no signature to verify. Pass --signature BASE64 (the result of key sign).');
        body['digest'] = body['value'];
        body['value'] = base64Option(options.signature, '--signature').toString('base64url');
      }
      const target = objectTarget(command, ['keys']);
      const answer = asRecord(
        await target.client.call('POST', `${objectPath('keys', target)}/${verb}`, body),
      );
      const result: Record<string, unknown> =
        verb === 'sign'
          ? {
              algorithm: options.algorithm,
              kid: answer['kid'],
              signature: Buffer.from(String(answer['value'] ?? ''), 'base64url').toString('base64'),
            }
          : {
              algorithm: options.algorithm,
              kid: target.client.vaultUrl + objectPath('keys', target),
              isValid: answer['value'] === true,
            };
      printResult(outputFormat(command), result, () => renderProperties(Object.entries(result)));
    })
      .addOption(
        new Option('-a, --algorithm <alg>', 'the signature algorithm')
          .choices(SIGN_ALGORITHMS)
          .makeOptionMandatory(),
      )
      .option('--digest <base64>', 'the hash of the data, base64'),
    'key',
  );
}

/** Base64 or base64url from an option, refusing anything else rather than sending garbage. */
function base64Option(text: string, option: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text.trim())) {
    throw new CliError(
      `${option} is not base64. Encode the bytes first, e.g. \`base64 -w0 FILE\`${option === '--value' ? ', or pass --data-type plaintext for text' : ''}.`,
    );
  }
  return Buffer.from(text.trim(), 'base64');
}
