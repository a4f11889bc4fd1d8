import { createPrivateKey } from 'node:crypto';
import { BadParameter } from '../../errors/index.js';
import { assembleBundle, type CertificateBundleParts } from './bundle.js';

/**
 * PEM as Key Vault writes it (the private key, then the certificates) and as clients send it:
 * any order, text around the blocks, and every private key encoding node:crypto reads.
 */

const SOURCE = 'PEM';
const LINE_LENGTH = 64;
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const KEY_LABELS: readonly string[] = [
  'PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
];
/** A traditional OpenSSL key encrypted under RSA/EC PRIVATE KEY says so in a header. */
const LEGACY_ENCRYPTION_HEADER = /Proc-Type:\s*4,ENCRYPTED/;

export function encodePem(parts: CertificateBundleParts): string {
  const key = parts.privateKeyPkcs8 ? [pemBlock('PRIVATE KEY', parts.privateKeyPkcs8)] : [];
  return [...key, ...parts.certificates.map((der) => pemBlock('CERTIFICATE', der))].join('');
}

function pemBlock(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(new RegExp(`.{1,${LINE_LENGTH}}`, 'g')) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Blocks other than keys and certificates (EC PARAMETERS, CERTIFICATE REQUEST...) are ignored. */
export function decodePem(text: string, password?: string): CertificateBundleParts {
  const keys: Buffer[] = [];
  const certificates: Buffer[] = [];
  let blocks = 0;
  for (const [block, label = ''] of text.matchAll(BLOCK)) {
    blocks += 1;
    if (KEY_LABELS.includes(label)) keys.push(readPrivateKey(block, label, password));
    else if (label === 'CERTIFICATE') certificates.push(readCertificateBlock(block, certificates.length + 1));
  }
  if (blocks === 0) throw new BadParameter('The value is not PEM: it has no -----BEGIN ...----- block.');
  return assembleBundle(SOURCE, keys, certificates);
}

function readPrivateKey(block: string, label: string, password: string | undefined): Buffer {
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || LEGACY_ENCRYPTION_HEADER.test(block);
  if (encrypted && !password)
    throw new BadParameter('The PEM private key is encrypted; supply its password.');
  try {
    return createPrivateKey({ key: block, format: 'pem', passphrase: password }).export({
      type: 'pkcs8',
      format: 'der',
    });
  } catch {
    throw new BadParameter(
      encrypted
        ? 'The password does not decrypt the PEM private key.'
        : `The PEM ${label} block is not a valid private key.`,
    );
  }
}

/** The DER inside; assembleBundle checks that it is a certificate. */
function readCertificateBlock(block: string, position: number): Buffer {
  const body = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw new BadParameter(`PEM certificate ${position} is not valid base64.`);
  }
  return Buffer.from(body, 'base64');
}
