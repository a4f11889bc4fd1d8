import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';

/**
 * TLS 1.3 suites are named explicitly so the list below is the whole policy; the TLS 1.2 part
 * allows only forward-secret (ECDHE) AEAD suites, for both ECDSA and RSA certificates.
 */
const CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/** The TLS part of `https.ServerOptions` that Coffer sets; every field is always present. */
export interface TlsServerOptions {
  cert: string;
  key: string;
  minVersion: 'TLSv1.2';
  maxVersion: 'TLSv1.3';
  ciphers: string;
  honorCipherOrder: true;
}

/** Options for `https.createServer` (or Fastify's `https`): TLS 1.2 and 1.3 only, modern suites. */
export function tlsServerOptions(cert: string, key: string): TlsServerOptions & ServerOptions {
  return {
    cert,
    key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: CIPHERS,
    honorCipherOrder: true,
  };
}

/**
 * Reads the operator's certificate (leaf first, optionally followed by its chain) and private key
 * for production mode, and fails at start-up with a message saying what to fix rather than
 * letting the first handshake fail.
 */
export function loadTlsFiles(certFile: string, keyFile: string): { cert: string; key: string } {
  const cert = readPemFile(certFile, 'certificate');
  const key = readPemFile(keyFile, 'private key');
  const leaf = parseCertificate(cert, certFile);
  const privateKey = parsePrivateKey(key, keyFile);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new Error(
      `TLS private key ${keyFile} does not match the certificate ${certFile} ` +
        `(subject ${leaf.subject.replace(/\n/g, ', ')}): supply the key the certificate was issued for, ` +
        'and put the server certificate first in the certificate file.',
    );
  }
  return { cert, key };
}

function readPemFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new Error(
      `TLS ${what} file ${file} ${reason}: check the configured path and that the server's user can read it.`,
      { cause: error },
    );
  }
}

function parseCertificate(pem: string, file: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new Error(`TLS certificate file ${file} does not hold a PEM certificate (BEGIN CERTIFICATE).`);
  }
}

function parsePrivateKey(pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // The parser's message is not repeated: it could quote part of the key.
    throw new Error(
      `TLS private key file ${file} does not hold an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1).`,
    );
  }
}
