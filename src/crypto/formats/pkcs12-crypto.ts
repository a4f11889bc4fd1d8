import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import forge from 'node-forge';
import { BadParameter, InternalError } from '../../errors/index.js';
import {
  type Asn1,
  bytesOf,
  fromBinary,
  integer,
  integerOf,
  items,
  nullValue,
  octets,
  oid,
  oidOf,
  parseDer,
  sequence,
  toBinary,
} from './der.js';
import { PKCS12_OID } from './pkcs12-oids.js';

/**
 * The cryptography of PKCS#12, all of it node-forge's (or node:crypto's HMAC): PBES2 and the
 * legacy PKCS#12 PBE ciphers (3DES, RC2-40, which OpenSSL 3 only reads with its legacy
 * provider), and the PKCS#12 key derivation behind the MAC.
 *
 * Passwords take two forms, as in OpenSSL: PKCS#12's own KDF (MAC, legacy PBE) hashes the
 * password as UTF-16 with a terminator, and forge builds that from a JS string; PBKDF2 (PBES2)
 * hashes its UTF-8 bytes, which forge wants as a binary string. `null` is PKCS#12's "no
 * password" (zero bytes), which differs from '' (just the terminator) in the PKCS#12 KDF.
 */
export type Pkcs12Password = string | null;

/** OpenSSL 3's defaults; also what Windows and .NET read. */
const ITERATIONS = 2048;
const SALT_BYTES = 16;

/**
 * forge derives keys in pure JavaScript (about half a second per 100,000 PBKDF2-SHA256 rounds),
 * so a hostile file could otherwise block the server for minutes. Real tools use 2000 (Windows), 2048 (OpenSSL), 10000 (Java).
 */
export const MAX_ITERATIONS = 100_000;

export class WrongPassword extends Error {
  constructor() {
    super('wrong password');
  }
}

interface ForgePbe {
  getCipher(oid: string, params: Asn1, password: Pkcs12Password): forge.cipher.BlockCipher;
}
// node-forge exports pki.pbe (lib/pbe.js), but @types/node-forge does not declare it.
const pbe = (forge.pki as unknown as { pbe: ForgePbe }).pbe;

const PKCS12_PBE_OIDS: readonly string[] = [PKCS12_OID.pbeSha1TripleDes, PKCS12_OID.pbeSha1Rc2Bits40];

function pbkdf2Password(password: Pkcs12Password): string {
  return forge.util.encodeUtf8(password ?? '');
}

/** Encrypts the DER of `plain` with PBES2: AES-256-CBC, key from PBKDF2-HMAC-SHA256. */
export function pbes2Encrypt(plain: Asn1, password: string): { algorithm: Asn1; ciphertext: string } {
  const encryptedInfo = forge.pki.encryptPrivateKeyInfo(plain, pbkdf2Password(password), {
    algorithm: 'aes256',
    prfAlgorithm: 'sha256',
    count: ITERATIONS,
    saltSize: SALT_BYTES,
  });
  const [algorithm, encrypted] = items(encryptedInfo, 2);
  if (algorithm === undefined || typeof encrypted?.value !== 'string') {
    throw new InternalError('node-forge returned an unexpected EncryptedPrivateKeyInfo');
  }
  return { algorithm, ciphertext: encrypted.value };
}

/**
 * Decrypts with the algorithm an AlgorithmIdentifier names. The plaintext is checked to be DER:
 * CBC padding alone lets one wrong password in 256 through.
 */
export function pbeDecrypt(
  algorithm: Asn1 | undefined,
  ciphertext: string,
  password: Pkcs12Password,
): string {
  const [idNode, params] = items(algorithm, 1);
  const id = oidOf(idNode);
  const isPkcs12Pbe = PKCS12_PBE_OIDS.includes(id);
  if (!isPkcs12Pbe && id !== PKCS12_OID.pbes2) throw unsupported(`encryption algorithm ${id}`);
  if (params === undefined) throw unsupported(`encryption algorithm ${id} without parameters`);
  checkIterations(isPkcs12Pbe ? pkcs12PbeIterations(params) : pbes2Iterations(params));
  const cipher = startCipher(id, params, isPkcs12Pbe ? password : pbkdf2Password(password));
  cipher.update(forge.util.createBuffer(ciphertext));
  if (!cipher.finish()) throw new WrongPassword();
  const plaintext = cipher.output.getBytes();
  try {
    parseDer(plaintext);
  } catch {
    throw new WrongPassword();
  }
  return plaintext;
}

function startCipher(id: string, params: Asn1, password: Pkcs12Password): forge.cipher.BlockCipher {
  try {
    return pbe.getCipher(id, params, password);
  } catch {
    // forge refuses PBES2 ciphers other than AES-CBC and (3)DES-CBC, and PRFs it lacks.
    throw unsupported(`PBES2 cipher or PRF (encryption algorithm ${id})`);
  }
}

// pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
function pkcs12PbeIterations(params: Asn1): number {
  return integerOf(items(params, 2)[1]);
}

// PBES2-params ::= SEQUENCE { keyDerivationFunc { PBKDF2, PBKDF2-params }, encryptionScheme }
// PBKDF2-params ::= SEQUENCE { salt, iterationCount INTEGER, keyLength OPTIONAL, prf OPTIONAL }
function pbes2Iterations(params: Asn1): number {
  const [kdf] = items(params, 2);
  return integerOf(items(items(kdf, 2)[1], 2)[1]);
}

function checkIterations(count: number): void {
  if (count < 1 || count > MAX_ITERATIONS) {
    throw new BadParameter(
      `The PKCS#12 file asks for ${Number.isFinite(count) ? count : 'too many'} key derivation iterations; Coffer accepts 1 to ${MAX_ITERATIONS}.`,
    );
  }
}

function unsupported(what: string): BadParameter {
  return new BadParameter(
    `The PKCS#12 file uses an unsupported ${what}. Supported: PBES2 with AES-CBC (the OpenSSL 3 default) and the legacy 3DES and RC2-40 PKCS#12 ciphers.`,
  );
}

// MAC (RFC 7292 appendix B: HMAC keyed by the PKCS#12 KDF with ID 3)

const MAC_DIGESTS: Readonly<Record<string, { node: string; forge: () => forge.md.MessageDigest }>> = {
  [PKCS12_OID.sha1]: { node: 'sha1', forge: () => forge.md.sha1.create() },
  [PKCS12_OID.sha256]: { node: 'sha256', forge: () => forge.md.sha256.create() },
  [PKCS12_OID.sha384]: { node: 'sha384', forge: () => forge.md.sha512.create('SHA-384') },
  [PKCS12_OID.sha512]: { node: 'sha512', forge: () => forge.md.sha512.create() },
};

interface MacParams {
  digestOid: string;
  salt: string;
  iterations: number;
}

function computeMac(authSafe: string, { digestOid, salt, iterations }: MacParams, password: Pkcs12Password) {
  const digest = MAC_DIGESTS[digestOid];
  if (digest === undefined) throw unsupportedMac(digestOid);
  const md = digest.forge();
  const key = forge.pkcs12.generateKey(
    password,
    forge.util.createBuffer(salt),
    3,
    iterations,
    md.digestLength,
    md,
  );
  return createHmac(digest.node, fromBinary(key.getBytes())).update(fromBinary(authSafe)).digest();
}

function unsupportedMac(digestOid: string): BadParameter {
  return new BadParameter(
    `The PKCS#12 file's MAC uses an unsupported digest (${digestOid}). Supported: SHA-1, SHA-256, SHA-384, SHA-512.`,
  );
}

/** MacData with HMAC-SHA256, as OpenSSL 3 writes it. */
export function buildMacData(authSafe: string, password: string): Asn1 {
  const params = {
    digestOid: PKCS12_OID.sha256,
    salt: toBinary(randomBytes(SALT_BYTES)),
    iterations: ITERATIONS,
  };
  const mac = computeMac(authSafe, params, password);
  return sequence(
    sequence(sequence(oid(params.digestOid), nullValue()), octets(toBinary(mac))),
    octets(params.salt),
    integer(params.iterations),
  );
}

// MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
// DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
/** The first candidate password that the MAC confirms, or undefined if none does. */
export function passwordConfirmedByMac(
  macData: Asn1,
  authSafe: string,
  candidates: readonly Pkcs12Password[],
): Pkcs12Password | undefined {
  const [digestInfo, saltNode, iterationsNode] = items(macData, 2);
  const [algorithm, digestNode] = items(digestInfo, 2);
  const expected = fromBinary(bytesOf(digestNode));
  const params: MacParams = {
    digestOid: oidOf(items(algorithm, 1)[0]),
    salt: bytesOf(saltNode),
    iterations: iterationsNode === undefined ? 1 : integerOf(iterationsNode),
  };
  checkIterations(params.iterations);
  return candidates.find((candidate) => {
    const actual = computeMac(authSafe, params, candidate);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
}
