import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { azShape } from '../az-shape.js';
import { CliError } from '../errors.js';
import { readInputFile } from '../files.js';

import {
  addAttributeOptions,
  attributesBody,
  dataLeaf,
  objectPath,
  objectTarget,
  printShaped,
} from './data-plane.js';
import { addKeyShapeOptions, keyType, opsBody, renderKey } from './key.js';

/**
 * `coffer key import`: a private key from a PEM file or string (as az), or a JWK file. The key is
 * parsed here, so a wrong password or a damaged file fails with a clear line before anything is
 * sent; the server receives the JWK over TLS and keeps it behind its barrier.
 */

const JWK_TYPES = new Set(['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct', 'oct-HSM']);
const PRIVATE_MEMBER: Readonly<Record<string, string>> = { RSA: 'd', EC: 'd', oct: 'k' };

export function registerKeyImport(key: Command): void {
  addKeyShapeOptions(
    addAttributeOptions(
      dataLeaf(key, 'import', 'import a private key (PEM or JWK)', async ({ command }) => {
        const options = command.opts<{ name?: string; protection?: string }>();
        if (options.name === undefined) throw new CliError('which key? Pass --name NAME.');
        const jwk = keyToImport(command);
        jwk['kty'] = keyType(String(jwk['kty']), options.protection);
        const body: Record<string, unknown> = {
          key: { ...jwk, ...opsBody(command) },
          ...attributesBody(command),
        };
        if (options.protection === 'hsm') body['hsm'] = true;
        const target = objectTarget(command, ['keys']);
        printShaped(
          command,
          await target.client.call('PUT', objectPath('keys', { name: target.name }), body),
          azShape,
          renderKey,
        );
      })
        .option('-n, --name <name>', 'name of the key')
        .option('--pem-file <path>', 'PEM file with the private key (PKCS#8, PKCS#1 or SEC1)')
        .option('--pem-string <pem>', 'the PEM text itself')
        .option('--pem-password <password>', 'password of an encrypted PEM')
        .option('--jwk-file <path>', 'JSON Web Key file with the private members'),
      true,
    ),
  );
}

function keyToImport(command: Command): Record<string, unknown> {
  const options = command.opts<{
    pemFile?: string;
    pemString?: string;
    pemPassword?: string;
    jwkFile?: string;
  }>();
  const given = [options.pemFile, options.pemString, options.jwkFile].filter(
    (source) => source !== undefined,
  );
  if (given.length !== 1) throw new CliError('pass exactly one of --pem-file, --pem-string or --jwk-file.');
  if (options.jwkFile !== undefined) return jwkFromFile(options.jwkFile);
  const pem =
    options.pemFile !== undefined
      ? readInputFile(options.pemFile, '--pem-file').toString('utf8')
      : (options.pemString ?? '');
  const where = options.pemFile ?? '--pem-string';
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(
      options.pemPassword === undefined ? pem : { key: pem, passphrase: options.pemPassword },
    );
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(pem);
    const next = encrypted
      ? options.pemPassword === undefined
        ? 'It is encrypted: pass --pem-password.'
        : 'Check --pem-password.'
      : 'Pass a PEM private key (-----BEGIN PRIVATE KEY-----).';
    throw new CliError(`${where} holds no usable private key (${(error as Error).message}). ${next}`);
  }
  return privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
}

function jwkFromFile(file: string): Record<string, unknown> {
  const text = readInputFile(file, '--jwk-file').toString('utf8');
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new CliError(
      `${file} is not a JWK: it is not JSON. Pass a JSON Web Key such as {"kty": "RSA", "n": ..., "d": ...}.`,
    );
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new CliError(`${file} is not a JWK: it holds no JSON object.`);
  const record = jwk as Record<string, unknown>;
  const kty = record['kty'];
  if (typeof kty !== 'string' || !JWK_TYPES.has(kty)) {
    throw new CliError(
      `${file} is not a JWK Key Vault imports: kty is ${JSON.stringify(kty)}, not RSA, EC or oct.`,
    );
  }
  const base = kty.replace(/-HSM$/, '');
  const member = PRIVATE_MEMBER[base] ?? 'd';
  if (typeof record[member] !== 'string') {
    throw new CliError(
      `${file} holds no private key (no "${member}" member): import needs the private key, not only the public one.`,
    );
  }
  if (base !== 'oct') {
    try {
      createPrivateKey({ key: { ...record, kty: base } as JsonWebKey, format: 'jwk' });
    } catch (error) {
      throw new CliError(`${file} is not a valid ${base} JWK (${(error as Error).message}). Check the file.`);
    }
  }
  return { ...record };
}
