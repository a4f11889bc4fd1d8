import { createHash } from 'node:crypto';
import { InternalError } from '../../errors/index.js';
import type { CertificateBundleParts } from './bundle.js';
import {
  type Asn1,
  explicit0,
  fromBinary,
  implicit0Octets,
  integer,
  octets,
  oid,
  parseDer,
  sequence,
  set,
  toBinary,
  toDer,
} from './der.js';
import { buildMacData, pbes2Encrypt } from './pkcs12-crypto.js';
import { PKCS12_OID } from './pkcs12-oids.js';

/**
 * Writes a PFX as OpenSSL 3 does by default (`openssl pkcs12 -export`): certificates in one
 * SafeContents, the key in another as a PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA256) shrouded key
 * bag, and an HMAC-SHA256 MAC. Without a password, the key is shrouded and the MAC keyed with
 * the empty password, so the file opens with an empty password like Key Vault's downloads,
 * and the certificates are left in clear (nothing in them is secret). With one, the
 * certificates are encrypted too, as OpenSSL does. The leaf and the key share a localKeyId (the
 * leaf's SHA-1), which Windows uses to pair them.
 */
export function encodePkcs12(parts: CertificateBundleParts, password?: string): Buffer {
  const secret = password ?? '';
  const [leaf] = parts.certificates;
  const localKeyId = parts.privateKeyPkcs8 && leaf ? localKeyIdAttributes(leaf) : undefined;
  const contents: Asn1[] = [];
  if (parts.certificates.length > 0) {
    const bags = parts.certificates.map((der, index) =>
      certificateBag(der, index === 0 ? localKeyId : undefined),
    );
    contents.push(
      secret ? encryptedContentInfo(sequence(...bags), secret) : dataContentInfo(sequence(...bags)),
    );
  }
  if (parts.privateKeyPkcs8) {
    contents.push(dataContentInfo(sequence(shroudedKeyBag(parts.privateKeyPkcs8, secret, localKeyId))));
  }
  const authSafe = toDer(sequence(...contents));
  const pfx = sequence(integer(3), dataContentInfo(authSafe), buildMacData(authSafe, secret));
  return fromBinary(toDer(pfx));
}

function localKeyIdAttributes(leafDer: Buffer): Asn1 {
  const id = createHash('sha1').update(leafDer).digest();
  return set(sequence(oid(PKCS12_OID.localKeyId), set(octets(toBinary(id)))));
}

function safeBag(type: string, content: Asn1, attributes: Asn1 | undefined): Asn1 {
  return sequence(oid(type), explicit0(content), attributes);
}

function certificateBag(der: Buffer, attributes: Asn1 | undefined): Asn1 {
  const certBag = sequence(oid(PKCS12_OID.x509Certificate), explicit0(octets(toBinary(der))));
  return safeBag(PKCS12_OID.certBag, certBag, attributes);
}

function shroudedKeyBag(pkcs8: Buffer, password: string, attributes: Asn1 | undefined): Asn1 {
  let privateKeyInfo: Asn1;
  try {
    privateKeyInfo = parseDer(pkcs8);
  } catch {
    throw new InternalError('the private key to export is not PKCS#8 DER');
  }
  const { algorithm, ciphertext } = pbes2Encrypt(privateKeyInfo, password);
  return safeBag(PKCS12_OID.shroudedKeyBag, sequence(algorithm, octets(ciphertext)), attributes);
}

/** A ContentInfo of type data holding the given DER, or the DER of the given node. */
function dataContentInfo(content: string | Asn1): Asn1 {
  const der = typeof content === 'string' ? content : toDer(content);
  return sequence(oid(PKCS12_OID.data), explicit0(octets(der)));
}

function encryptedContentInfo(safeContents: Asn1, password: string): Asn1 {
  const { algorithm, ciphertext } = pbes2Encrypt(safeContents, password);
  const encryptedData = sequence(
    integer(0),
    sequence(oid(PKCS12_OID.data), algorithm, implicit0Octets(ciphertext)),
  );
  return sequence(oid(PKCS12_OID.encryptedData), explicit0(encryptedData));
}
