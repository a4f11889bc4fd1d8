import { InternalError, NotSupported } from '../../../errors/index.js';
import { toBase64Url } from '../../../lib/base64.js';
import type { Curve } from '../types.js';
import { decodeEcPoint } from './ec-point.js';
import { NOT_SUPPORTED, hsmFull } from './errors.js';
import { type Handle, type Pkcs11Api, type Template, ck, ckrOf } from './library.js';
import {
  EC_PARAMS,
  curveOfParams,
  type ExtractPolicy,
  type ObjectNames,
  privateKeyTemplate,
  publicKeyTemplate,
  secretKeyTemplate,
} from './templates.js';
import type { Pkcs11Token } from './token.js';

/** Which token object of a key an operation needs. */
export type ObjectRole = 'private' | 'public' | 'secret';

const CLASS_OF: Record<ObjectRole, number> = {
  private: ck.CKO_PRIVATE_KEY,
  public: ck.CKO_PUBLIC_KEY,
  secret: ck.CKO_SECRET_KEY,
};

/** The public part of a pair the token made or holds, as the stored material carries it. */
export type PublicPart =
  { kty: 'RSA'; n: string; e: string } | { kty: 'EC'; crv: Curve; x: string; y: string };

/**
 * The token objects of Key Vault keys, found by CKA_ID. Handles are cached (finding an object
 * costs a search in the token) and forgotten when the module is initialised again, when a key is
 * destroyed, or when the token says a handle is no longer valid.
 */
export class KeyObjects {
  #handles = new Map<string, Handle>();
  #generation = -1;

  constructor(private readonly token: Pkcs11Token) {}

  /**
   * Runs `work` with the object's handle. A cached handle the token no longer knows (its
   * object was recreated) is looked up once more; an object that is not there at all is an
   * InternalError: the stored record names a key this token does not hold.
   */
  async withObject<T>(
    id: string,
    role: ObjectRole,
    work: (api: Pkcs11Api, session: Handle, handle: Handle) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.token.withSession(async (api, session) =>
          work(api, session, this.#find(api, session, id, role)),
        );
      } catch (error) {
        const code = ckrOf(error);
        const stale = code === ck.CKR_OBJECT_HANDLE_INVALID || code === ck.CKR_KEY_HANDLE_INVALID;
        if (!stale || attempt > 0) throw error;
        this.#handles.delete(`${id}/${role}`);
      }
    }
  }

  #find(api: Pkcs11Api, session: Handle, id: string, role: ObjectRole): Handle {
    if (this.#generation !== this.token.generation) {
      this.#handles.clear();
      this.#generation = this.token.generation;
    }
    const cacheKey = `${id}/${role}`;
    const cached = this.#handles.get(cacheKey);
    if (cached) return cached;
    const [handle] = findAll(api, session, [
      { type: ck.CKA_ID, value: Buffer.from(id, 'hex') },
      { type: ck.CKA_CLASS, value: CLASS_OF[role] },
    ]);
    if (!handle) {
      throw new InternalError(
        'the HSM holds no object for a stored HSM key: the token is not the one the key was made in, or its object was deleted outside Coffer',
      );
    }
    this.#handles.set(cacheKey, handle);
    return handle;
  }

  /** Destroys every object with this CKA_ID; a key already gone is not an error (purge is retried). */
  async destroy(id: string): Promise<void> {
    await this.token.withSession((api, session) => {
      for (const handle of findAll(api, session, [{ type: ck.CKA_ID, value: Buffer.from(id, 'hex') }])) {
        api.C_DestroyObject(session, handle);
      }
    });
    for (const role of Object.keys(CLASS_OF)) this.#handles.delete(`${id}/${role}`);
  }

  /** Generates a key pair or an AES key in the token. */
  async generate(
    spec:
      | { kty: 'RSA'; bits: number; exponent: number }
      | { kty: 'EC'; curve: Curve }
      | { kty: 'oct'; bits: number },
    names: ObjectNames,
    policy: ExtractPolicy,
  ): Promise<void> {
    await creating(`${spec.kty} keys of this size or curve`, () =>
      this.token.withSession(async (api, session) => {
        if (spec.kty === 'oct') {
          const template = [
            ...secretKeyTemplate(names, policy),
            { type: ck.CKA_VALUE_LEN, value: spec.bits / 8 },
          ];
          await api.C_GenerateKeyAsync(session, { mechanism: ck.CKM_AES_KEY_GEN }, template);
          return;
        }
        const [mechanism, publicExtra]: [number, Template] =
          spec.kty === 'RSA'
            ? [
                ck.CKM_RSA_PKCS_KEY_PAIR_GEN,
                [
                  { type: ck.CKA_MODULUS_BITS, value: spec.bits },
                  { type: ck.CKA_PUBLIC_EXPONENT, value: exponentBytes(spec.exponent) },
                ],
              ]
            : [ck.CKM_EC_KEY_PAIR_GEN, [{ type: ck.CKA_EC_PARAMS, value: EC_PARAMS[spec.curve] }]];
        await api.C_GenerateKeyPairAsync(
          session,
          { mechanism },
          [...publicKeyTemplate(spec.kty, names), ...publicExtra],
          privateKeyTemplate(spec.kty, names, policy),
        );
      }),
    );
  }

  /** Creates objects from attribute templates (an imported key, a public key beside an unwrapped one). */
  async create(templates: Template[], what: string): Promise<void> {
    await creating(what, () =>
      this.token.withSession((api, session) => {
        for (const template of templates) api.C_CreateObject(session, template);
      }),
    );
  }

  /** The public part of a pair, read from its public object (or, for RSA, from the private one). */
  async publicPart(id: string, kty: 'RSA' | 'EC', role: ObjectRole = 'public'): Promise<PublicPart> {
    return this.withObject(id, role, async (api, session, handle) => {
      if (kty === 'RSA') {
        const [n, e] = attributes(api, session, handle, [ck.CKA_MODULUS, ck.CKA_PUBLIC_EXPONENT]);
        return { kty, n: toBase64Url(stripZeros(n!)), e: toBase64Url(stripZeros(e!)) };
      }
      const [params, point] = attributes(api, session, handle, [ck.CKA_EC_PARAMS, ck.CKA_EC_POINT]);
      const crv = curveOfParams(params!);
      const { x, y } = decodeEcPoint(crv, point!);
      return { kty, crv, x: toBase64Url(x), y: toBase64Url(y) };
    });
  }
}

export function findAll(api: Pkcs11Api, session: Handle, template: Template): Handle[] {
  api.C_FindObjectsInit(session, template);
  try {
    return api.C_FindObjects(session, 16);
  } finally {
    api.C_FindObjectsFinal(session);
  }
}

export function attributes(api: Pkcs11Api, session: Handle, handle: Handle, types: number[]): Buffer[] {
  return api
    .C_GetAttributeValue(
      session,
      handle,
      types.map((type) => ({ type })),
    )
    .map((attribute) => attribute.value as Buffer);
}

function exponentBytes(exponent: number): Buffer {
  const hex = exponent.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

export function stripZeros(bytes: Buffer): Buffer {
  const first = bytes.findIndex((byte) => byte !== 0);
  return first <= 0 ? bytes : bytes.subarray(first);
}

/**
 * Object creation: a token that cannot hold another object answers 507, one that cannot make
 * this kind of key answers 400 NotSupported, never a software key in its place.
 */
export async function creating<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = ckrOf(error);
    if (code === ck.CKR_DEVICE_MEMORY || code === ck.CKR_FUNCTION_FAILED) throw hsmFull();
    if (code !== undefined && NOT_SUPPORTED.has(code)) {
      throw new NotSupported(`The HSM cannot create ${what}.`);
    }
    throw error;
  }
}
