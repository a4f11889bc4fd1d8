import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoftwareKeyProvider } from '../keys/software-provider.js';
import type { Curve, PublicJwk } from '../keys/types.js';
import { CofferError } from '../../errors/index.js';
import { signingAlgorithmFor } from './signature.js';
import type { Signer } from './types.js';

/** Shared by the x509 tests: keys behind the real KeyProvider, and the openssl CLI as a second opinion. */

const provider = new SoftwareKeyProvider();

export interface TestKey {
  spki: Buffer;
  signer: Signer;
}

export type TestKeySpec = { kty: 'RSA'; size?: number } | { kty: 'EC'; curve: Curve };

/** A fresh key in the SoftwareKeyProvider and a signer over it: the path production uses. */
export async function testKey(spec: TestKeySpec): Promise<TestKey> {
  const material = await provider.generate(spec);
  const kind = spec.kty === 'RSA' ? ({ kty: 'RSA' } as const) : ({ kty: 'EC', crv: spec.curve } as const);
  const alg = signingAlgorithmFor(kind);
  return {
    spki: spkiOf(provider.publicJwk(material)),
    signer: { alg, sign: (digest) => provider.sign(material, alg, digest) },
  };
}

export function spkiOf(jwk: PublicJwk): Buffer {
  const nodeJwk = jwk.kty === 'EC' && jwk.crv === 'P-256K' ? { ...jwk, crv: 'secp256k1' } : { ...jwk };
  return createPublicKey({ key: nodeJwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

export function pem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A scratch directory for files the openssl CLI reads and writes; remove() at the end of the suite. */
export function scratchDir(): {
  path: (name: string) => string;
  write: (name: string, text: string) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(process.env.COFFER_TEST_TMP ?? tmpdir(), 'coffer-x509-'));
  return {
    path: (name) => join(dir, name),
    write: (name, text) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs openssl and returns stdout followed by stderr (where some verdicts go: openssl 3.0's
 * `req -verify` exits 0 even when the signature is bad). A non-zero exit fails the test.
 */
export function openssl(args: string[], input?: Buffer | string): string {
  const result = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (result.status !== 0) assert.fail(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}

/** The call must throw BadParameter (400) whose message matches. */
export async function assertBadParameter(call: () => unknown, expected: RegExp): Promise<void> {
  await assert.rejects(
    async () => call(),
    (error: unknown) => {
      assert.ok(error instanceof CofferError, `expected a CofferError, got ${String(error)}`);
      assert.equal(error.code, 'BadParameter');
      assert.equal(error.status, 400);
      assert.match(error.message, expected);
      return true;
    },
  );
}
