import { BadParameter } from '../../../errors/index.js';
import { OCT_SIZES_BITS, RSA_MAX_BITS, RSA_MIN_BITS, decodeStored } from '../jwk.js';
import type { TransferTarget } from '../provider.js';
import type { HsmKeyMaterial, HsmKeyReference } from '../types.js';
import { bitLength, publicValues } from './key-values.js';
import { type Handle, type Pkcs11Api, ck } from './library.js';
import { type KeyObjects, type PublicPart, attributes, stripZeros } from './objects.js';
import { recoverPublicPoint } from './public-point.js';
import { type ObjectNames, classAndType, curveOfParams, keyTypeOf, publicKeyTemplate } from './templates.js';

/** RFC 5649 adds 8 bytes to a key whose length is a multiple of 8, as AES keys are. */
const KEY_WRAP_PAD_OVERHEAD = 8;

/** What a key that arrives wrapped must turn out to be. */
export type Arrival =
  { kty: 'oct'; bits: number } | { kty: 'RSA' | 'EC'; crv?: TransferTarget['crv']; publicPart?: PublicPart };

/** A BYOK key's expected shape; an AES key's size shows in the length of what wraps it. */
export function transferArrival(kek: HsmKeyMaterial, ciphertext: Buffer, target: TransferTarget): Arrival {
  if (target.kty !== 'oct') return { kty: target.kty, crv: target.crv };
  const modulusBytes = kek.kty === 'RSA' ? decodeStored(kek.n).length : 0;
  const bits = (ciphertext.length - modulusBytes - KEY_WRAP_PAD_OVERHEAD) * 8;
  if (!OCT_SIZES_BITS.includes(bits)) {
    throw new BadParameter(`The transferred oct key must be ${OCT_SIZES_BITS.join(', ')} bits.`);
  }
  return { kty: 'oct', bits };
}

/**
 * A key that arrived wrapped (BYOK, restore) has only its private or secret object: check it is
 * the key the caller said (type, curve, size), and create its public object.
 */
export async function completeArrived(
  objects: KeyObjects,
  names: ObjectNames,
  hsm: HsmKeyReference,
  arrival: Arrival,
): Promise<HsmKeyMaterial> {
  const read = (role: 'private' | 'secret', types: number[]) =>
    objects.withObject(hsm.id, role, async (api, session, key) => attributes(api, session, key, types));
  if (arrival.kty === 'oct') {
    // Some tokens (SoftHSM) leave CKA_VALUE_LEN empty on unwrapped keys; the size is known anyway.
    const [length] = await read('secret', [ck.CKA_VALUE_LEN]);
    const told = length && length.length >= 4 ? length.readUInt32LE(0) * 8 : 0;
    if (told !== 0 && told !== arrival.bits) {
      throw new BadParameter(`The transferred oct key is not ${arrival.bits} bits.`);
    }
    return { kty: 'oct', hsm, bits: arrival.bits };
  }
  // A backup carries the public part; a BYOK key's is read (RSA) or recovered (EC) in the token.
  const publicPart =
    arrival.publicPart ??
    (arrival.kty === 'RSA'
      ? arrivedRsa(await read('private', [ck.CKA_MODULUS, ck.CKA_PUBLIC_EXPONENT]))
      : await arrivedEc(objects, hsm.id, arrival.crv));
  const template = [
    ...classAndType(ck.CKO_PUBLIC_KEY, keyTypeOf(publicPart.kty)),
    ...publicKeyTemplate(publicPart.kty, names),
    ...publicValues(publicPart),
  ];
  await objects.create([template], 'public keys');
  return { ...publicPart, hsm };
}

function arrivedRsa(values: Buffer[]): PublicPart {
  const [n, e] = values.map(stripZeros);
  const bits = bitLength(n!);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new BadParameter(
      `An RSA key must be ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits; this one has ${bits}.`,
    );
  }
  return { kty: 'RSA', n: n!.toString('base64url'), e: e!.toString('base64url') };
}

function arrivedEc(objects: KeyObjects, id: string, crv: string | undefined): Promise<PublicPart> {
  return objects.withObject(id, 'private', async (api, session, key) => {
    const [params] = attributes(api, session, key, [ck.CKA_EC_PARAMS]);
    const curve = curveOfParams(params!);
    if (crv !== undefined && crv !== curve) {
      throw new BadParameter(`The transferred EC key is on ${curve}, not on ${crv} as the request says.`);
    }
    const { x, y } = await recoverPublicPoint(api, session, key, curve);
    // The derivation served once, to find the public point; the key does not keep it.
    dropDerive(api, session, key);
    return { kty: 'EC', crv: curve, x: x.toString('base64url'), y: y.toString('base64url') };
  });
}

function dropDerive(api: Pkcs11Api, session: Handle, key: Handle): void {
  try {
    api.C_SetAttributeValue(session, key, [{ type: ck.CKA_DERIVE, value: false }]);
  } catch {
    // A token that will not change the attribute keeps it: only Coffer's code uses the key.
  }
}
