import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ConnectionOptions, connect } from 'node:tls';
import { type DevTls, ensureDevTls } from './dev-tls.js';
import { loadTlsFiles, tlsServerOptions } from './server-options.js';

const NAMES = {
  dnsNames: ['localhost', 'vault.localhost', '*.vault.localhost'],
  ipAddresses: ['127.0.0.1', '::1'],
};

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-tls-'));
  tempDirs.push(dir);
  return dir;
}

function readCa(tls: DevTls): X509Certificate {
  return new X509Certificate(readFileSync(tls.caFile));
}

function fileMode(file: string): number {
  return statSync(file).mode & 0o777;
}

async function listen(tls: DevTls): Promise<{ server: Server; port: number; clientErrors: Error[] }> {
  const clientErrors: Error[] = [];
  const server = createServer(tlsServerOptions(tls.cert, tls.key), (_req, res) => res.end('ok'));
  server.on('tlsClientError', (error) => clientErrors.push(error));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as AddressInfo).port, clientErrors };
}

/** Resolves with the negotiated protocol, or rejects with the handshake error. */
function handshake(options: ConnectionOptions): Promise<{ authorized: boolean; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = connect(options, () => {
      resolve({ authorized: socket.authorized, protocol: socket.getProtocol() });
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('ensureDevTls', () => {
  it('creates a CA and a server certificate that verify and cover the requested names', async () => {
    const tls = await ensureDevTls(tempDir(), NAMES);
    assert.ok(isAbsolute(tls.caFile));
    const ca = readCa(tls);
    assert.equal(ca.ca, true);
    assert.match(ca.subject, /CN=Coffer Development CA/);
    assert.ok(ca.verify(ca.publicKey));

    const server = new X509Certificate(tls.cert);
    assert.equal(server.ca, false);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(server.checkIssued(ca));
    assert.equal(server.checkHost('dev.vault.localhost'), '*.vault.localhost');
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkHost('dev.localhost'), undefined);
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);

    const days = (Date.parse(server.validTo) - Date.parse(server.validFrom)) / 86_400_000;
    assert.ok(days <= 397, `server certificate valid for ${days} days`);
    assert.ok(days > 396, `server certificate valid for ${days} days`);
  });

  it('serves TLS 1.2+ to a client trusting the CA and refuses TLS 1.1', async () => {
    const tls = await ensureDevTls(tempDir(), NAMES);
    const { server, port, clientErrors } = await listen(tls);
    try {
      const ca = readFileSync(tls.caFile);
      const ok = await handshake({ host: '127.0.0.1', port, ca, servername: 'dev.vault.localhost' });
      assert.equal(ok.authorized, true);
      assert.equal(ok.protocol, 'TLSv1.3');

      const tls12 = await handshake({
        host: '127.0.0.1',
        port,
        ca,
        servername: 'localhost',
        maxVersion: 'TLSv1.2',
      });
      assert.equal(tls12.protocol, 'TLSv1.2');

      // SECLEVEL=0 lets this client's own OpenSSL offer TLS 1.1, so the refusal comes from the server.
      const old = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;
      await assert.rejects(handshake({ host: '127.0.0.1', port, ca, servername: 'localhost', ...old }));
      assert.ok(clientErrors.length >= 1, 'the server saw and rejected the TLS 1.1 handshake');
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('reuses the CA and the server certificate on a second call', async () => {
    const dir = tempDir();
    const first = await ensureDevTls(dir, NAMES);
    const caPem = readFileSync(first.caFile, 'utf8');
    const second = await ensureDevTls(dir, NAMES);
    assert.equal(second.caFile, first.caFile);
    assert.equal(readFileSync(second.caFile, 'utf8'), caPem);
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
  });

  it('reissues the server certificate under the same CA when the names change', async () => {
    const dir = tempDir();
    const first = await ensureDevTls(dir, NAMES);
    const caPem = readFileSync(first.caFile, 'utf8');
    const second = await ensureDevTls(dir, {
      ...NAMES,
      dnsNames: [...NAMES.dnsNames, 'coffer.example.test'],
    });
    assert.equal(readFileSync(second.caFile, 'utf8'), caPem);
    assert.notEqual(second.cert, first.cert);
    const server = new X509Certificate(second.cert);
    assert.ok(server.verify(readCa(second).publicKey));
    assert.equal(server.checkHost('coffer.example.test'), 'coffer.example.test');
    assert.equal(readFileSync(join(dir, 'tls', 'server.pem'), 'utf8'), second.cert);
  });

  it('signs with a pre-seeded CA instead of creating one', async () => {
    const seeded = await ensureDevTls(tempDir(), NAMES);
    const dir = tempDir();
    mkdirSync(join(dir, 'tls'));
    copyFileSync(seeded.caFile, join(dir, 'tls', 'ca.pem'));
    copyFileSync(join(seeded.caFile, '..', 'ca-key.pem'), join(dir, 'tls', 'ca-key.pem'));
    const tls = await ensureDevTls(dir, NAMES);
    assert.equal(readFileSync(tls.caFile, 'utf8'), readFileSync(seeded.caFile, 'utf8'));
    assert.ok(new X509Certificate(tls.cert).verify(readCa(seeded).publicKey));
  });

  it('keeps private keys at mode 0600 in a 0700 directory', async () => {
    const dir = tempDir();
    await ensureDevTls(dir, NAMES);
    assert.equal(fileMode(join(dir, 'tls')), 0o700);
    assert.equal(fileMode(join(dir, 'tls', 'ca-key.pem')), 0o600);
    assert.equal(fileMode(join(dir, 'tls', 'server-key.pem')), 0o600);
  });

  it('rejects a wildcard over a two-label name, which no TLS client would match', async () => {
    await assert.rejects(
      ensureDevTls(tempDir(), { dnsNames: ['*.localhost'], ipAddresses: [] }),
      /two-label/,
    );
  });
});

describe('loadTlsFiles', () => {
  it('returns a matching certificate and key', async () => {
    const dir = tempDir();
    await ensureDevTls(dir, NAMES);
    const files = loadTlsFiles(join(dir, 'tls', 'server.pem'), join(dir, 'tls', 'server-key.pem'));
    assert.match(files.cert, /BEGIN CERTIFICATE/);
    assert.match(files.key, /BEGIN PRIVATE KEY/);
  });

  it('throws when the key does not match the certificate', async () => {
    const dir = tempDir();
    await ensureDevTls(dir, NAMES);
    assert.throws(
      () => loadTlsFiles(join(dir, 'tls', 'server.pem'), join(dir, 'tls', 'ca-key.pem')),
      /does not match the certificate/,
    );
  });

  it('names the missing or unusable file', () => {
    const dir = tempDir();
    const missing = join(dir, 'nope.pem');
    assert.throws(
      () => loadTlsFiles(missing, missing),
      (error: Error) => error.message.includes(missing),
    );
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem');
    assert.throws(() => loadTlsFiles(garbage, garbage), /does not hold a PEM certificate/);
  });
});
