import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fetchToken, rawRequest } from './http.js';
import { type DevServer, scratchDir } from './server-process.js';

// What the certificate end-to-end tests share: the openssl CLI as an implementation independent
// of the server's, PEM and PKCS#12 unpacking, and the admin API calls that set a test up.

export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const DAY_MS = 24 * 60 * 60 * 1000;

interface SdkError {
  statusCode?: number;
  code?: string;
}

/** The certificate operation a create or operation poller last read. */
export interface OperationState {
  status?: string;
  csr?: Uint8Array;
  target?: string;
  cancellationRequested?: boolean;
  issuerName?: string;
  error?: { code?: string; message?: string };
}
/**
 * @azure/keyvault-certificates 4.10.3 declares `certificateOperation` on the pollers' state, but
 * getOperationState() copies the state without it: it is read where the poller keeps it.
 */
export const operationOf = (poller: object): OperationState | undefined =>
  (poller as { operation?: { state?: { certificateOperation?: OperationState } } }).operation?.state
    ?.certificateOperation;

/** Asserts that an SDK call fails with the given HTTP status (and Azure error code, when given). */
export async function rejectsWith(
  promise: Promise<unknown>,
  statusCode: number,
  code?: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as SdkError).statusCode, statusCode, `status of ${String(error)}`);
    if (code !== undefined) assert.equal((error as SdkError).code, code, `code of ${String(error)}`);
    return true;
  });
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function pemBlock(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The private keys and certificates of a PEM text, in order. */
export function splitPem(text: string): { keys: KeyObject[]; certificates: X509Certificate[] } {
  const keys: KeyObject[] = [];
  const certificates: X509Certificate[] = [];
  for (const [block, label] of text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g)) {
    if (label === 'CERTIFICATE') certificates.push(new X509Certificate(block));
    else if (label?.endsWith('PRIVATE KEY')) keys.push(createPrivateKey(block));
  }
  return { keys, certificates };
}

/** A certificate as the SDK returns it (`cer`, the DER), opened with node:crypto. */
export const x509Of = (certificate: { cer?: Uint8Array }) =>
  new X509Certificate(Buffer.from(certificate.cer ?? []));

/** Months between two dates, in 30.44-day months (what a validity in months comes to). */
export function monthsBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / (30.44 * DAY_MS);
}

/** The openssl CLI in a scratch directory of the test run. */
export class Openssl {
  readonly dir = scratchDir('openssl');

  path(name: string): string {
    return path.join(this.dir, name);
  }

  write(name: string, data: string | Uint8Array): string {
    writeFileSync(this.path(name), data);
    return name;
  }

  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /** Runs openssl; throws with its stderr when it fails. */
  run(...args: string[]): string {
    try {
      return execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`openssl ${args.join(' ')} failed: ${stderr}`, { cause: error });
    }
  }

  /** `openssl x509 -text` of a certificate. */
  text(certificate: X509Certificate | Uint8Array): string {
    const name = this.write(`text-${Date.now()}-${Math.random()}.pem`, pemOf(certificate));
    return this.run('x509', '-in', name, '-noout', '-text');
  }

  /** Opens a PKCS#12 with `openssl pkcs12 -nodes` (empty password unless given). */
  pkcs12(pfx: Uint8Array, password = ''): { keys: KeyObject[]; certificates: X509Certificate[] } {
    const name = this.write(`bundle-${Date.now()}-${Math.random()}.pfx`, pfx);
    return splitPem(this.run('pkcs12', '-in', name, '-passin', `pass:${password}`, '-nodes'));
  }

  /** `openssl verify -CAfile ca leaf [-untrusted intermediate]`; answers its output. */
  verify(ca: X509Certificate, leaf: X509Certificate): string {
    const caFile = this.write(`ca-${Date.now()}-${Math.random()}.pem`, ca.toString());
    const leafFile = this.write(`leaf-${Date.now()}-${Math.random()}.pem`, leaf.toString());
    return this.run('verify', '-CAfile', caFile, leafFile);
  }

  /** Signs a certificate request (DER) with an openssl CA, copying the requested extensions. */
  signRequest(stem: string, csr: Uint8Array, ca: { key: string; cert: string }, days = 90): X509Certificate {
    this.write(`${stem}.csr`, pemBlock('CERTIFICATE REQUEST', csr));
    this.run(
      'x509',
      '-req',
      '-in',
      `${stem}.csr`,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      String(Date.now()),
      '-days',
      String(days),
      '-copy_extensions',
      'copyall',
      '-out',
      `${stem}.pem`,
    );
    return new X509Certificate(this.read(`${stem}.pem`));
  }

  /** A CA of openssl's own (key and self-signed certificate). */
  ca(stem: string, subject: string): { key: string; cert: string; certificate: X509Certificate } {
    const key = `${stem}.key`;
    const cert = `${stem}.pem`;
    this.run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '365',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    return { key, cert, certificate: new X509Certificate(this.read(cert)) };
  }
}

function pemOf(certificate: X509Certificate | Uint8Array): string {
  return certificate instanceof X509Certificate
    ? certificate.toString()
    : pemBlock('CERTIFICATE', certificate);
}

/** The admin API (`/coffer/...`) as the dev administrator. */
export async function adminApi(server: DevServer) {
  const { facts } = server;
  const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
  return async <T>(method: string, adminPath: string, body?: unknown): Promise<T> => {
    const response = await rawRequest(`${facts.url}/coffer${adminPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(response.status < 300, `${method} ${adminPath}: ${response.status} ${response.text}`);
    return (response.status === 204 ? undefined : response.json()) as T;
  };
}

export const vaultUrlOf = (server: DevServer, name: string) =>
  `https://${name}.vault.localhost:${new URL(server.facts.url).port}`;
