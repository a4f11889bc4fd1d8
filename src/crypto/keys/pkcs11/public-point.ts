import { ECDH, createECDH, randomBytes } from 'node:crypto';
import type pkcs11js from 'pkcs11js';
import { InternalError } from '../../../errors/index.js';
import { curveParams } from '../ec-curves.js';
import { ecdsaVerify } from '../ecdsa.js';
import type { Curve } from '../types.js';
import { type Handle, type Pkcs11Api, ck } from './library.js';
import { sessionSecret } from './templates.js';

/**
 * The public point of an EC private key that arrived in the token with no public half (a BYOK
 * key unwrapped from PKCS#8: tokens keep only d and the curve). PKCS#11 has no call for d·G, but
 * ECDH with the base point G as the peer's key derives exactly the x of d·G; the y with that x is
 * one of two, and the token's own signature over a random digest tells which. The private key
 * never leaves the token; only public values do.
 */
export async function recoverPublicPoint(
  api: Pkcs11Api,
  session: Handle,
  privateKey: Handle,
  curve: Curve,
): Promise<{ x: Buffer; y: Buffer }> {
  const params = curveParams(curve)!;
  // G is the public key of the private scalar 1.
  const one = createECDH(params.nodeName);
  one.setPrivateKey(Buffer.concat([Buffer.alloc(params.bytes - 1), Buffer.from([1])]));
  const generator = one.getPublicKey();
  const derived = await api.C_DeriveKeyAsync(
    session,
    {
      mechanism: ck.CKM_ECDH1_DERIVE,
      parameter: {
        type: ck.CK_PARAMS_EC_DH,
        kdf: ck.CKD_NULL,
        publicData: generator,
      } satisfies pkcs11js.ECDH1 as pkcs11js.IParams,
    },
    privateKey,
    sessionSecret([
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
      // d·G is the public key: readable on purpose.
      { type: ck.CKA_SENSITIVE, value: false },
      { type: ck.CKA_EXTRACTABLE, value: true },
      { type: ck.CKA_VALUE_LEN, value: params.bytes },
    ]),
  );
  let x: Buffer;
  try {
    x = api.C_GetAttributeValue(session, derived, [{ type: ck.CKA_VALUE }])[0]!.value as Buffer;
  } finally {
    api.C_DestroyObject(session, derived);
  }
  const digest = randomBytes(params.bytes);
  api.C_SignInit(session, { mechanism: ck.CKM_ECDSA }, privateKey);
  const signature = await api.C_SignAsync(session, digest, Buffer.alloc(2 * params.bytes));
  for (const prefix of [0x02, 0x03]) {
    const point = ECDH.convertKey(
      Buffer.concat([Buffer.from([prefix]), x]),
      params.nodeName,
      undefined,
      undefined,
      'uncompressed',
    ) as Buffer;
    const candidate = { x: point.subarray(1, 1 + params.bytes), y: point.subarray(1 + params.bytes) };
    if (ecdsaVerify(params, candidate, digest, signature)) return candidate;
  }
  throw new InternalError('the public point of an EC key in the token could not be recovered');
}
