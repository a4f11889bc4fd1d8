import 'reflect-metadata';
import { createPrivateKey, type KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

// Development TLS only: a CA kept in the data dir and a server certificate it signs. NOT FOR PRODUCTION.

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
// Browsers reject leaf certificates valid for more than 398 days.
const SERVER_VALIDITY_DAYS = 397;
const RENEW_WITHIN_DAYS = 30;
// Backdating notBefore lets a client whose clock is a little behind accept a fresh certificate.
const BACKDATE_MS = 5 * 60 * 1000;
const CA_SUBJECT = 'CN=Coffer Development CA';
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface DevTlsNames {
  dnsNames: string[];
  ipAddresses: string[];
}

export interface DevTls {
  /** Absolute path of the CA certificate clients must trust (NODE_EXTRA_CA_CERTS, --cacert). */
  caFile: string;
  cert: string;
  key: string;
}

interface TlsFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

interface DevCa {
  cert: X509Certificate;
  subject: x509.Name;
  notAfter: Date;
  signingKey: webcrypto.CryptoKey;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
  authorityKeyId: x509.AuthorityKeyIdentifierExtension;
}

interface PemPair {
  cert: string;
  key: string;
}

/**
 * Returns a server certificate for `names` signed by the development CA in `DIR/tls`, creating
 * the CA on first use and reissuing the certificate only when it no longer fits (other CA,
 * other names, or fewer than 30 days left), so clients that trust the CA keep working across
 * restarts.
 */
export async function ensureDevTls(dataDir: string, names: DevTlsNames): Promise<DevTls> {
  const requested = normaliseNames(names);
  const tlsDir = resolve(dataDir, 'tls');
  makePrivateDir(tlsDir);
  const files: TlsFiles = {
    caCert: join(tlsDir, 'ca.pem'),
    caKey: join(tlsDir, 'ca-key.pem'),
    serverCert: join(tlsDir, 'server.pem'),
    serverKey: join(tlsDir, 'server-key.pem'),
  };
  const ca =
    existsSync(files.caCert) && existsSync(files.caKey) ? await loadCa(files) : await createCa(files);
  const server = reusableServerCert(files, ca, requested) ?? (await issueServerCert(files, ca, requested));
  return { caFile: files.caCert, ...server };
}

function normaliseNames(names: DevTlsNames): DevTlsNames {
  const dnsNames = [...new Set(names.dnsNames.map((name) => name.trim().toLowerCase()))];
  const ipAddresses = [...new Set(names.ipAddresses.map((ip) => ip.trim()))];
  if (dnsNames.length + ipAddresses.length === 0) {
    throw new Error('ensureDevTls needs at least one DNS name or IP address for the server certificate');
  }
  for (const name of dnsNames) {
    // Node and OpenSSL never match `*.localhost`-style wildcards, so such a name would only mislead.
    if (name.startsWith('*.') && name.split('.').length < 3) {
      throw new Error(
        `Wildcard ${name} covers a two-label name, which TLS clients reject; use e.g. *.vault.localhost`,
      );
    }
  }
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new Error(`${ip} is not an IP address`);
  }
  return { dnsNames, ipAddresses };
}

async function createCa(files: TlsFiles): Promise<DevCa> {
  const keys = await generateP256();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: CA_SUBJECT,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // Key first: a crash in between leaves no ca.pem, so the next start creates a whole new pair.
  writeFileAtomic(files.caKey, await privateKeyPem(keys.privateKey), 0o600);
  writeFileAtomic(files.caCert, certificatePem(cert), 0o644);
  return loadCa(files);
}

/** Loads an existing CA, which may be one the test harness or the operator placed there. */
async function loadCa(files: TlsFiles): Promise<DevCa> {
  const pem = readFileSync(files.caCert, 'utf8');
  const cert = new X509Certificate(pem);
  const key = createPrivateKey(readFileSync(files.caKey, 'utf8'));
  tightenKeyMode(files.caKey);
  const fix = `replace both, or delete ${files.caCert} and ${files.caKey} to create a new development CA`;
  if (!cert.ca) throw new Error(`${files.caCert} is not a CA certificate: ${fix}`);
  if (!cert.checkPrivateKey(key)) throw new Error(`${files.caKey} does not match ${files.caCert}: ${fix}`);
  const parsed = new x509.X509Certificate(pem);
  if (parsed.notAfter.getTime() <= Date.now()) throw new Error(`${files.caCert} has expired: ${fix}`);
  const algorithms = signingAlgorithms(key);
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension);
  return {
    cert,
    subject: parsed.subjectName,
    notAfter: parsed.notAfter,
    signingKey: await webcrypto.subtle.importKey(
      'pkcs8',
      key.export({ type: 'pkcs8', format: 'der' }),
      algorithms.importAlgorithm,
      false,
      ['sign'],
    ),
    signingAlgorithm: algorithms.signingAlgorithm,
    // Matching the CA's own key id (rather than recomputing one) keeps chain building exact.
    authorityKeyId: ski
      ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(parsed.publicKey),
  };
}

/** A CA brought by the operator may be RSA (mkcert) or another NIST curve, not only P-256. */
function signingAlgorithms(key: KeyObject): {
  importAlgorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
} {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve !== undefined) {
    const [namedCurve, hash] =
      curve === 'secp384r1'
        ? ['P-384', 'SHA-384']
        : curve === 'secp521r1'
          ? ['P-521', 'SHA-512']
          : ['P-256', 'SHA-256'];
    return { importAlgorithm: { name: 'ECDSA', namedCurve }, signingAlgorithm: { name: 'ECDSA', hash } };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importAlgorithm: rsa, signingAlgorithm: rsa };
  }
  throw new Error(`Unsupported development CA key type ${key.asymmetricKeyType}: use an EC or RSA key`);
}

function reusableServerCert(files: TlsFiles, ca: DevCa, names: DevTlsNames): PemPair | undefined {
  if (!existsSync(files.serverCert) || !existsSync(files.serverKey)) return undefined;
  const cert = readFileSync(files.serverCert, 'utf8');
  const key = readFileSync(files.serverKey, 'utf8');
  try {
    const leaf = new X509Certificate(cert);
    const signedByCa = leaf.checkIssued(ca.cert) && leaf.verify(ca.cert.publicKey);
    if (!signedByCa || !leaf.checkPrivateKey(createPrivateKey(key))) return undefined;
    const parsed = new x509.X509Certificate(cert);
    if (parsed.notAfter.getTime() - Date.now() < RENEW_WITHIN_DAYS * DAY_MS) return undefined;
    if (parsed.notBefore.getTime() > Date.now()) return undefined;
    if (!sameNames(parsed, names)) return undefined;
  } catch {
    // Unparseable files are replaced rather than reported: everything here is regenerable.
    return undefined;
  }
  tightenKeyMode(files.serverKey);
  return { cert, key };
}

/** Compares encoded names, so `::1` and `0:0:0:0:0:0:0:1` count as the same address. */
function sameNames(cert: x509.X509Certificate, names: DevTlsNames): boolean {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san) return false;
  const have = new Set(san.names.items.map((item) => Buffer.from(item.rawData).toString('hex')));
  const want = new Set(
    new x509.GeneralNames(generalNames(names)).items.map((item) => Buffer.from(item.rawData).toString('hex')),
  );
  return have.size === want.size && [...want].every((name) => have.has(name));
}

function generalNames(names: DevTlsNames): x509.JsonGeneralNames {
  return [
    ...names.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...names.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
}

async function issueServerCert(files: TlsFiles, ca: DevCa, names: DevTlsNames): Promise<PemPair> {
  const keys = await generateP256();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  // A certificate cannot usefully outlive the CA that vouches for it.
  const notAfter = new Date(
    Math.min(notBefore.getTime() + SERVER_VALIDITY_DAYS * DAY_MS, ca.notAfter.getTime()),
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${names.dnsNames[0] ?? names.ipAddresses[0]}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(generalNames(names)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ca.authorityKeyId,
    ],
  });
  const pair = { cert: certificatePem(cert), key: await privateKeyPem(keys.privateKey) };
  // Key first: a crash in between leaves a mismatched pair, which the next start reissues.
  writeFileAtomic(files.serverKey, pair.key, 0o600);
  writeFileAtomic(files.serverCert, pair.cert, 0o644);
  return pair;
}

async function generateP256(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(P256, true, ['sign', 'verify']);
}

/** 16 random bytes with the top bit clear: a positive serial, as RFC 5280 requires. */
function randomSerial(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial.toString('hex');
}

function certificatePem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem')}\n`;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir ignores the mode for a directory that already exists and applies the umask to a new one.
  chmodSync(dir, 0o700);
}

/** A copied-in key (the test harness seeds the CA) may arrive group- or world-readable. */
function tightenKeyMode(file: string): void {
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
}

/** Write-then-rename, so a crash never leaves a truncated PEM and a key is never briefly 0644. */
function writeFileAtomic(file: string, data: string, mode: number): void {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, data, { mode, flag: 'wx' });
  chmodSync(temp, mode);
  renameSync(temp, file);
}
