import { BadParameter } from '../../errors/index.js';
import { assembleBundle, type CertificateBundleParts } from './bundle.js';
import {
  type Asn1,
  MalformedDer,
  bytesOf,
  explicitContent,
  fromBinary,
  integerOf,
  items,
  oidOf,
  parseDer,
  toDer,
} from './der.js';
import { type Pkcs12Password, WrongPassword, passwordConfirmedByMac, pbeDecrypt } from './pkcs12-crypto.js';
import { PKCS12_OID } from './pkcs12-oids.js';

/**
 * Reads a PFX (RFC 7292) in password integrity and privacy modes: the walk over its structure
 * is here, the cryptography is node-forge's (pkcs12-crypto.ts). forge's own reader is not used
 * because it re-encodes certificates (changing the bytes of some) and applies one password form
 * to both PBES2 and the PKCS#12 KDF, which breaks non-ASCII passwords on OpenSSL 3 files.
 */

const SOURCE = 'PKCS#12 file';
/** Nested SafeContents are legal but unused in practice; the limit only stops recursion bombs. */
const MAX_NESTING = 4;

interface Found {
  keys: Buffer[];
  certificates: Buffer[];
}

export function decodePkcs12(pfx: Buffer, password?: string): CertificateBundleParts {
  const found: Found = { keys: [], certificates: [] };
  try {
    const { authSafe, macData } = readPfx(pfx);
    const chosen = choosePassword(authSafe, macData, password);
    for (const contentInfo of items(parseDer(authSafe))) {
      collectBags(safeContentsOf(contentInfo, chosen), chosen, found, 0);
    }
  } catch (error) {
    throw clientError(error, password);
  }
  return assembleBundle(SOURCE, found.keys, found.certificates);
}

/** Every failure becomes a BadParameter that says what to fix and nothing of the content. */
function clientError(error: unknown, password: string | undefined): BadParameter {
  if (error instanceof BadParameter) return error;
  if (error instanceof WrongPassword) {
    return new BadParameter(
      password
        ? 'The password does not open this PKCS#12 file.'
        : 'This PKCS#12 file is protected by a password; supply it.',
    );
  }
  return new BadParameter('The value is not a valid PKCS#12 (PFX) file.');
}

// PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
function readPfx(pfx: Buffer): { authSafe: string; macData: Asn1 | undefined } {
  const [version, authSafeInfo, macData] = items(parseDer(pfx), 2);
  if (integerOf(version) !== 3) throw new MalformedDer();
  const [type, content] = items(authSafeInfo, 2);
  if (oidOf(type) !== PKCS12_OID.data) {
    throw new BadParameter(
      'PKCS#12 files signed with a public key are not supported, only password-protected ones.',
    );
  }
  return { authSafe: bytesOf(explicitContent(content)), macData };
}

function choosePassword(authSafe: string, macData: Asn1 | undefined, password?: string): Pkcs12Password {
  // No password can mean an empty one or none at all; OpenSSL tries both, and so does this.
  const candidates: Pkcs12Password[] = password ? [password] : ['', null];
  if (macData === undefined) return candidates[0] ?? null;
  const confirmed = passwordConfirmedByMac(macData, authSafe, candidates);
  if (confirmed === undefined) throw new WrongPassword();
  return confirmed;
}

// ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
function safeContentsOf(contentInfo: Asn1, password: Pkcs12Password): Asn1 {
  const [type, content] = items(contentInfo, 2);
  switch (oidOf(type)) {
    case PKCS12_OID.data:
      return parseDer(bytesOf(explicitContent(content)));
    case PKCS12_OID.encryptedData:
      return parseDer(decryptContents(explicitContent(content), password));
    default:
      throw new BadParameter(
        'PKCS#12 files encrypted to a public key are not supported, only password-encrypted ones.',
      );
  }
}

// EncryptedData ::= SEQUENCE { version INTEGER, encryptedContentInfo EncryptedContentInfo }
// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
//                                     encryptedContent [0] IMPLICIT OCTET STRING }
function decryptContents(encryptedData: Asn1, password: Pkcs12Password): string {
  const [, info] = items(encryptedData, 2);
  const [, algorithm, encrypted] = items(info, 3);
  return pbeDecrypt(algorithm, bytesOf(encrypted), password);
}

// SafeContents ::= SEQUENCE OF SafeBag
// SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OPTIONAL }
function collectBags(safeContents: Asn1, password: Pkcs12Password, found: Found, depth: number): void {
  for (const bag of items(safeContents)) {
    const [id, value] = items(bag, 2);
    const content = explicitContent(value);
    switch (oidOf(id)) {
      case PKCS12_OID.keyBag:
        found.keys.push(fromBinary(toDer(content)));
        break;
      case PKCS12_OID.shroudedKeyBag:
        found.keys.push(decryptKey(content, password));
        break;
      case PKCS12_OID.certBag:
        collectCertificate(content, found);
        break;
      case PKCS12_OID.safeContentsBag:
        if (depth >= MAX_NESTING) throw new MalformedDer();
        collectBags(content, password, found, depth + 1);
        break;
      // CRL and secret bags hold nothing a Key Vault certificate has; they are skipped.
    }
  }
}

// EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm, encryptedData OCTET STRING }
function decryptKey(encryptedInfo: Asn1, password: Pkcs12Password): Buffer {
  const [algorithm, encrypted] = items(encryptedInfo, 2);
  return fromBinary(pbeDecrypt(algorithm, bytesOf(encrypted), password));
}

// CertBag ::= SEQUENCE { certId OID, certValue [0] EXPLICIT OCTET STRING }
function collectCertificate(certBag: Asn1, found: Found): void {
  const [type, value] = items(certBag, 2);
  // SDSI certificates (the only other kind) are skipped: Key Vault holds X.509 only.
  if (oidOf(type) === PKCS12_OID.x509Certificate)
    found.certificates.push(fromBinary(bytesOf(explicitContent(value))));
}
