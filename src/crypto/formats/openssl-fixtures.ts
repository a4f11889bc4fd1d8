import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Test fixtures made by the openssl CLI, an implementation independent of the one under test,
 * in a temporary directory each test file removes when it ends.
 */

export type KeyKind = 'rsa' | 'P-256' | 'P-384' | 'secp256k1';
export const KEY_KINDS: readonly KeyKind[] = ['rsa', 'P-256', 'P-384', 'secp256k1'];

/** File names of a PEM key and certificate, and their parsed forms. */
export interface Credential {
  keyFile: string;
  certFile: string;
  key: KeyObject;
  certificate: X509Certificate;
  pkcs8: Buffer;
}

function newKeyArgs(kind: KeyKind): string[] {
  return kind === 'rsa'
    ? ['-newkey', 'rsa:2048']
    : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${kind}`];
}

export class OpensslDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'coffer-formats-'));
  private count = 0;

  path(name: string): string {
    return path.join(this.dir, name);
  }

  write(name: string, data: Buffer | string): string {
    writeFileSync(this.path(name), data);
    return name;
  }

  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /** Runs openssl in the directory; throws (with openssl's stderr) if it fails. */
  openssl(...args: string[]): Buffer {
    return execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  uniqueName(stem: string): string {
    this.count += 1;
    return `${stem}-${this.count}`;
  }

  selfSigned(kind: KeyKind, subject = '/CN=self-signed'): Credential {
    const name = this.uniqueName(kind);
    this.openssl(
      'req',
      '-x509',
      ...newKeyArgs(kind),
      '-nodes',
      '-subj',
      subject,
      '-days',
      '1',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    );
    return this.credential(name);
  }

  /** A certificate for a new key, signed by `issuer`. */
  issued(kind: KeyKind, issuer: Credential, subject = '/CN=leaf'): Credential {
    const name = this.uniqueName(kind);
    this.openssl(
      'req',
      '-new',
      ...newKeyArgs(kind),
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    this.openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      issuer.certFile,
      '-CAkey',
      issuer.keyFile,
      '-set_serial',
      String(1000 + this.count),
      '-days',
      '1',
      '-out',
      `${name}.crt`,
    );
    return this.credential(name);
  }

  /** `openssl pkcs12 -export` of a key and certificate files; `extra` adds options such as -legacy. */
  pkcs12(credential: Credential, password: string, ...extra: string[]): Buffer {
    const file = `${this.uniqueName('bundle')}.pfx`;
    this.openssl(
      'pkcs12',
      '-export',
      '-inkey',
      credential.keyFile,
      '-in',
      credential.certFile,
      '-passout',
      `pass:${password}`,
      '-out',
      file,
      ...extra,
    );
    return this.read(file);
  }

  /** What `openssl pkcs12 -in ... -nodes` recovers from a PFX: its PEM text. */
  readPkcs12(pfx: Buffer, password: string): string {
    const file = this.write(`${this.uniqueName('read')}.pfx`, pfx);
    return this.openssl('pkcs12', '-in', file, '-nodes', '-passin', `pass:${password}`).toString();
  }

  /** `openssl pkcs12 -info`: the algorithms the file uses, printed on stderr. */
  pkcs12Info(pfx: Buffer, password: string, ...extra: string[]): string {
    const file = this.write(`${this.uniqueName('info')}.pfx`, pfx);
    const args = ['pkcs12', '-info', '-noout', '-in', file, '-passin', `pass:${password}`, ...extra];
    const result = spawnSync('openssl', args, { cwd: this.dir });
    if (result.status !== 0) throw new Error(`openssl pkcs12 -info failed: ${result.stderr.toString()}`);
    return result.stderr.toString() + result.stdout.toString();
  }

  private credential(name: string): Credential {
    const key = createPrivateKey(this.read(`${name}.key`));
    return {
      keyFile: `${name}.key`,
      certFile: `${name}.crt`,
      key,
      certificate: new X509Certificate(this.read(`${name}.crt`)),
      pkcs8: key.export({ type: 'pkcs8', format: 'der' }),
    };
  }
}
