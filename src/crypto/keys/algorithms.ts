import type { CipherGCMTypes } from 'node:crypto';
import { InternalError, NotSupported } from '../../errors/index.js';
import type { Curve } from './types.js';

/** Which Key Vault operations an algorithm serves: sign/verify, encrypt/decrypt, wrapKey/unwrapKey. */
export type AlgorithmFamily = 'sign' | 'encrypt' | 'wrap';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export type AesKeyBytes = 16 | 24 | 32;
type AesBits = 128 | 192 | 256;

interface Entry {
  readonly name: string;
  readonly families: readonly AlgorithmFamily[];
}

interface SignatureEntry extends Entry {
  readonly kind: 'signature';
  readonly hash: HashName;
  /** Key Vault signs a digest the client computed; it must be exactly this long. */
  readonly digestBytes: number;
}

export type SignatureAlgorithm =
  | (SignatureEntry & { readonly scheme: 'rsa-pkcs1' | 'rsa-pss'; readonly keyType: 'RSA' })
  | (SignatureEntry & { readonly scheme: 'ecdsa'; readonly keyType: 'EC'; readonly curve: Curve });

interface CipherEntry extends Entry {
  readonly kind: 'cipher';
}

interface AesEntry extends CipherEntry {
  readonly keyType: 'oct';
  /** The oct key must be exactly this long: A128* needs a 128-bit key, and so on. */
  readonly keyBytes: AesKeyBytes;
}

export type RsaCipherAlgorithm =
  | (CipherEntry & { readonly scheme: 'rsa-pkcs1'; readonly keyType: 'RSA' })
  | (CipherEntry & {
      readonly scheme: 'rsa-oaep';
      readonly keyType: 'RSA';
      readonly oaepHash: 'sha1' | 'sha256';
    });

/** `cipher` is node:crypto's cipher name. */
export type AesAlgorithm =
  | (AesEntry & { readonly scheme: 'aes-gcm'; readonly cipher: CipherGCMTypes })
  | (AesEntry & { readonly scheme: 'aes-cbc' | 'aes-cbc-pad' | 'aes-kw'; readonly cipher: string });

export type CipherAlgorithm = RsaCipherAlgorithm | AesAlgorithm;
export type KeyAlgorithm = SignatureAlgorithm | CipherAlgorithm;

const SIGN: readonly AlgorithmFamily[] = ['sign'];
const ENCRYPT: readonly AlgorithmFamily[] = ['encrypt'];
const WRAP: readonly AlgorithmFamily[] = ['wrap'];
// RSA encryption serves both encrypt/decrypt and wrapKey/unwrapKey, as in Azure.
const ENCRYPT_AND_WRAP: readonly AlgorithmFamily[] = ['encrypt', 'wrap'];

const DIGEST_BYTES: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

function rsaSignature(name: string, scheme: 'rsa-pkcs1' | 'rsa-pss', hash: HashName): SignatureAlgorithm {
  const digestBytes = DIGEST_BYTES[hash];
  return { kind: 'signature', name, families: SIGN, scheme, keyType: 'RSA', hash, digestBytes };
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

function rsaCipher(name: string, oaepHash?: 'sha1' | 'sha256'): RsaCipherAlgorithm {
  const base = { kind: 'cipher', name, families: ENCRYPT_AND_WRAP, keyType: 'RSA' } as const;
  return oaepHash === undefined
    ? { ...base, scheme: 'rsa-pkcs1' }
    : { ...base, scheme: 'rsa-oaep', oaepHash };
}

function aesBase(name: string, bits: AesBits, families: readonly AlgorithmFamily[]): AesEntry {
  return { kind: 'cipher', name, families, keyType: 'oct', keyBytes: (bits / 8) as AesKeyBytes };
}

function aesGcm(name: string, bits: AesBits): AesAlgorithm {
  return { ...aesBase(name, bits, ENCRYPT), scheme: 'aes-gcm', cipher: `aes-${bits}-gcm` };
}

function aesCbc(name: string, bits: AesBits, scheme: 'aes-cbc' | 'aes-cbc-pad'): AesAlgorithm {
  return { ...aesBase(name, bits, ENCRYPT), scheme, cipher: `aes-${bits}-cbc` };
}

function aesKeyWrap(name: string, bits: AesBits): AesAlgorithm {
  return { ...aesBase(name, bits, WRAP), scheme: 'aes-kw', cipher: `id-aes${bits}-wrap` };
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
  rsaCipher('RSA1_5'),
  rsaCipher('RSA-OAEP', 'sha1'),
  rsaCipher('RSA-OAEP-256', 'sha256'),
  aesGcm('A128GCM', 128),
  aesGcm('A192GCM', 192),
  aesGcm('A256GCM', 256),
  aesCbc('A128CBC', 128, 'aes-cbc'),
  aesCbc('A192CBC', 192, 'aes-cbc'),
  aesCbc('A256CBC', 256, 'aes-cbc'),
  aesCbc('A128CBCPAD', 128, 'aes-cbc-pad'),
  aesCbc('A192CBCPAD', 192, 'aes-cbc-pad'),
  aesCbc('A256CBCPAD', 256, 'aes-cbc-pad'),
  aesKeyWrap('A128KW', 128),
  aesKeyWrap('A192KW', 192),
  aesKeyWrap('A256KW', 256),
];

// A null prototype, so a client-chosen name like '__proto__' or 'constructor' finds nothing.
const ALGORITHMS: Record<string, KeyAlgorithm> = Object.create(null) as Record<string, KeyAlgorithm>;
for (const entry of ENTRIES) ALGORITHMS[entry.name] = Object.freeze(entry);
Object.freeze(ALGORITHMS);

const OPERATIONS: Record<AlgorithmFamily, string> = {
  sign: 'sign/verify',
  encrypt: 'encrypt/decrypt',
  wrap: 'wrapKey/unwrapKey',
};

/** The algorithm names a family accepts, in table order: for error messages and discovery. */
export function supportedAlgorithms(family: AlgorithmFamily): string[] {
  return ENTRIES.filter((entry) => entry.families.includes(family)).map((entry) => entry.name);
}

function lookup(family: AlgorithmFamily, name: unknown): KeyAlgorithm {
  const entry = typeof name === 'string' ? ALGORITHMS[name] : undefined;
  if (entry === undefined || !entry.families.includes(family)) {
    // The name is echoed (shortened) so a client sees its typo; it is never key material.
    const shown = typeof name === 'string' ? `'${name.slice(0, 32)}'` : 'missing';
    const supported = supportedAlgorithms(family).join(', ');
    throw new NotSupported(
      `Algorithm ${shown} is not supported for ${OPERATIONS[family]}. Supported: ${supported}.`,
    );
  }
  return entry;
}

export function signatureAlgorithm(name: unknown): SignatureAlgorithm {
  const entry = lookup('sign', name);
  if (entry.kind !== 'signature') throw new InternalError('algorithm table: a sign entry is not a signature');
  return entry;
}

export function cipherAlgorithm(family: 'encrypt' | 'wrap', name: unknown): CipherAlgorithm {
  const entry = lookup(family, name);
  if (entry.kind !== 'cipher') throw new InternalError(`algorithm table: a ${family} entry is not a cipher`);
  return entry;
}
