import { BadParameter } from '../../errors/index.js';
import { decodePem } from './pem.js';

const DER_SEQUENCE = 0x30;
const PRINTABLE_TEXT = /^[\x20-\x7e\t\r\n]*$/;
const ARMOR = /-----(BEGIN|END) [A-Z0-9 ]+-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The certificates of one entry of a merge's `x5c`, after its base64 is undone. Key Vault takes
 * the DER, and also text: PEM blocks, or the base64 of the DER. The official JavaScript merge
 * sample sends the latter, as the bytes of a PEM file's lines after the first, the END line
 * included (`Buffer.from(base64Crt)`), so armour lines are dropped wherever they are.
 * Answers DER certificates, unchecked beyond their outer SEQUENCE; `field` names the entry in
 * messages.
 */
export function certificatesOfEntry(bytes: Buffer, field: string): Buffer[] {
  if (bytes[0] === DER_SEQUENCE) return [bytes];
  const text = bytes.toString('latin1');
  const notCertificate = () =>
    new BadParameter(
      `${field} is not a certificate: send the DER (base64-encoded in the JSON), or its PEM or base64 text.`,
    );
  if (!PRINTABLE_TEXT.test(text)) throw notCertificate();
  if (text.includes('-----BEGIN CERTIFICATE-----')) return decodePem(text).certificates;
  const body = text.replace(ARMOR, '').replace(/\s+/g, '');
  const der = BASE64.test(body) ? Buffer.from(body, 'base64') : undefined;
  if (der?.[0] !== DER_SEQUENCE) throw notCertificate();
  return [der];
}
