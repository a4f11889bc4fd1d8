import { InternalError, NotSupported } from '../../errors/index.js';
import type { Curve } from './types.js';

/** Which Key Vault operations an algorithm serves: sign/verify, encrypt/decrypt, wrapKey/unwrapKey. */
export type AlgorithmFamily = 'sign' | 'encrypt' | 'wrap';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export type AesKeyBytes = 16 | 24 | 32;

interface SignatureBase {
  readonly kind: 'signature';
  readonly name: string;
  readonly families: readonly AlgorithmFamily[];
  readonly hash: HashName;
  /** Key Vault signs a digest the client computed; it must be exactly this long. */
  readonly digestBytes: number;
}

export type SignatureAlgorithm =
  | (SignatureBase & { readonly scheme: 'rsa-pkcs1' | 'rsa-pss'; readonly keyType: 'RSA' })
  | (SignatureBase & { readonly scheme: 'ecdsa'; readonly keyType: 'EC'; readonly curve: Curve });

interface CipherBase {
  readonly kind: 'cipher';
  readonly name: string;
  readonly families: readonly AlgorithmFamily[];
}

export type CipherAlgorithm =
  | (CipherBase & { readonly scheme: 'rsa-pkcs1'; readonly keyType: 'RSA' })
  | (CipherBase & {
      readonly scheme: 'rsa-oaep';
      readonly keyType: 'RSA';
      readonly oaepHash: 'sha1' | 'sha256';
    })
  | (CipherBase & {
      readonly scheme: 'aes-gcm' | 'aes-cbc' | 'aes-cbc-pad' | 'aes-kw';
      readonly keyType: 'oct';
      /** The oct key must be exactly this long: A128* needs a 128-bit key, and so on. */
      readonly keyBytes: AesKeyBytes;
      /** node:crypto's cipher name. */
      readonly cipher: string;
    });

export type KeyAlgorithm = SignatureAlgorithm | CipherAlgorithm;
export type RsaCipherAlgorithm = Extract<CipherAlgorithm, { keyType: 'RSA' }>;
export type AesAlgorithm = Extract<CipherAlgorithm, { keyType: 'oct' }>;

const SIGN: readonly AlgorithmFamily[] = ['sign'];
const ENCRYPT: readonly AlgorithmFamily[] = ['encrypt'];
const WRAP: readonly AlgorithmFamily[] = ['wrap'];
const ENCRYPT_AND_WRAP: readonly AlgorithmFamily[] = ['encrypt', 'wrap'];

const DIGEST_BYTES: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

function rsaSignature(name: string, scheme: 'rsa-pkcs1' | 'rsa-pss', hash: HashName): SignatureAlgorithm {
  return {
    kind: 'signature',
    name,
    families: SIGN,
    scheme,
    keyType: 'RSA',
    hash,
    digestBytes: DIGEST_BYTES[hash],
  };
}

function ecdsa(name: string, curve: Curve, hash: HashName): SignatureAlgorithm {
  const digestBytes = DIGEST_BYTES[hash];
  return {
    kind: 'signature',
    name,
    families: SIGN,
    scheme: 'ecdsa',
    keyType: 'EC',
    curve,
    hash,
    digestBytes,
  };
}

function aes(
  name: string,
  scheme: 'aes-gcm' | 'aes-cbc' | 'aes-cbc-pad',
  bits: 128 | 192 | 256,
): CipherAlgorithm {
  const mode = scheme === 'aes-gcm' ? 'gcm' : 'cbc';
  const keyBytes = (bits / 8) as AesKeyBytes;
  return {
    kind: 'cipher',
    name,
    families: ENCRYPT,
    scheme,
    keyType: 'oct',
    keyBytes,
    cipher: `aes-${bits}-${mode}`,
  };
}

function aesKeyWrap(name: string, bits: 128 | 192 | 256): CipherAlgorithm {
  const keyBytes = (bits / 8) as AesKeyBytes;
  return {
    kind: 'cipher',
    name,
    families: WRAP,
    scheme: 'aes-kw',
    keyType: 'oct',
    keyBytes,
    cipher: `id-aes${bits}-wrap`,
  };
}

const ENTRIES: readonly KeyAlgorithm[] = [
  rsaSignature('RS256', 'rsa-pkcs1', 'sha256'),
  rsaSignature('RS384', 'rsa-pkcs1', 'sha384'),
  rsaSignature('RS512', 'rsa-pkcs1', 'sha512'),
  rsaSignature('PS256', 'rsa-pss', 'sha256'),
  rsaSignature('PS384', 'rsa-pss', 'sha384'),
  rsaSignature('PS512', 'rsa-pss', 'sha512'),
  ecdsa('ES256', 'P-256', 'sha256'),
  ecdsa('ES256K', 'P-256K', 'sha256'),
  ecdsa('ES384', 'P-384', 'sha384'),
  ecdsa('ES512', 'P-521', 'sha512'),
  // RSA encryption serves both encrypt/decrypt and wrapKey/unwrapKey, as in Azure.
  { kind: 'cipher', name: 'RSA1_5', families: ENCRYPT_AND_WRAP, scheme: 'rsa-pkcs1', keyType: 'RSA' },
  {
    kind: 'cipher',
    name: 'RSA-OAEP',
    families: ENCRYPT_AND_WRAP,
    scheme: 'rsa-oaep',
    keyType: 'RSA',
    oaepHash: 'sha1',
  },
  {
    kind: 'cipher',
    name: 'RSA-OAEP-256',
    families: ENCRYPT_AND_WRAP,
    scheme: 'rsa-oaep',
    keyType: 'RSA',
    oaepHash: 'sha256',
  },
  aes('A128GCM', 'aes-gcm', 128),
  aes('A192GCM', 'aes-gcm', 192),
  aes('A256GCM', 'aes-gcm', 256),
  aes('A128CBC', 'aes-cbc', 128),
  aes('A192CBC', 'aes-cbc', 192),
  aes('A256CBC', 'aes-cbc', 256),
  aes('A128CBCPAD', 'aes-cbc-pad', 128),
  aes('A192CBCPAD', 'aes-cbc-pad', 192),
  aes('A256CBCPAD', 'aes-cbc-pad', 256),
  aesKeyWrap('A128KW', 128),
  aesKeyWrap('A192KW', 192),
  aesKeyWrap('A256KW', 256),
];

// A null prototype, so a client-chosen name like '__proto__' or 'constructor' finds nothing.
const ALGORITHMS: Record<string, KeyAlgorithm> = Object.create(null) as Record<string, KeyAlgorithm>;
for (const entry of ENTRIES) ALGORITHMS[entry.name] = Object.freeze(entry);
Object.freeze(ALGORITHMS);

/** The algorithm names a family accepts, in table order: for error messages and discovery. */
export function supportedAlgorithms(family: AlgorithmFamily): string[] {
  return ENTRIES.filter((entry) => entry.families.includes(family)).map((entry) => entry.name);
}

function lookup(family: AlgorithmFamily, name: unknown): KeyAlgorithm {
  const entry = typeof name === 'string' ? ALGORITHMS[name] : undefined;
  if (entry === undefined || !entry.families.includes(family)) {
    // The name is echoed (shortened) so a client sees its typo; it is never key material.
    const shown = typeof name === 'string' ? `'${name.slice(0, 32)}'` : 'missing';
    throw new NotSupported(
      `Algorithm ${shown} is not supported for ${OPERATIONS[family]}. Supported: ${supportedAlgorithms(family).join(', ')}.`,
    );
  }
  return entry;
}

const OPERATIONS: Record<AlgorithmFamily, string> = {
  sign: 'sign/verify',
  encrypt: 'encrypt/decrypt',
  wrap: 'wrapKey/unwrapKey',
};

export function signatureAlgorithm(name: unknown): SignatureAlgorithm {
  const entry = lookup('sign', name);
  if (entry.kind !== 'signature') throw new InternalError('algorithm table: sign entry is not a signature');
  return entry;
}

export function cipherAlgorithm(family: 'encrypt' | 'wrap', name: unknown): CipherAlgorithm {
  const entry = lookup(family, name);
  if (entry.kind !== 'cipher') throw new InternalError(`algorithm table: ${family} entry is not a cipher`);
  return entry;
}
