import { randomBytes } from 'node:crypto';
import { BadParameter } from '../../../errors/index.js';
import { curveParams } from '../ec-curves.js';
import { RSA_SIZES_BITS } from '../generate.js';
import { OCT_SIZES_BITS, RSA_MAX_BITS, RSA_MIN_BITS, decodeStored } from '../jwk.js';
import type {
  DecryptOptions,
  EncryptOptions,
  EncryptResult,
  KeyOperations,
  TransferTarget,
} from '../provider.js';
import {
  CURVES,
  type HsmKeyMaterial,
  type KeySpec,
  type PublicJwk,
  type StoredKeyMaterial,
} from '../types.js';
import { encodeEcPoint } from './ec-point.js';
import { type Handle, type Pkcs11Api, Pkcs11ConfigError, type Template, ck } from './library.js';
import { KeyObjects, type PublicPart, attributes, stripZeros } from './objects.js';
import { TokenOperations } from './operations.js';
import { recoverPublicPoint } from './public-point.js';
import {
  EC_PARAMS,
  type ObjectNames,
  classAndType,
  curveOfParams,
  privateKeyTemplate,
  publicKeyTemplate,
  secretKeyTemplate,
} from './templates.js';
import { Pkcs11Token, type TokenOptions } from './token.js';
import { KeyTransfer } from './transfer.js';

const DEFAULT_EXPONENT = 65537;
/** RFC 5649 adds 8 bytes to a key whose length is a multiple of 8, as AES keys are. */
const KEY_WRAP_PAD_OVERHEAD = 8;

/** What a key that arrives wrapped must turn out to be. */
type Arrival =
  { kty: 'oct'; bits: number } | { kty: 'RSA' | 'EC'; crv?: TransferTarget['crv']; publicPart?: PublicPart };

/** A BYOK key's expected shape; an AES key's size shows in the length of what wraps it. */
function transferArrival(kek: HsmKeyMaterial, ciphertext: Buffer, target: TransferTarget): Arrival {
  if (target.kty !== 'oct') return { kty: target.kty, crv: target.crv };
  const modulusBytes = kek.kty === 'RSA' ? decodeStored(kek.n).length : 0;
  const bits = (ciphertext.length - modulusBytes - KEY_WRAP_PAD_OVERHEAD) * 8;
  if (!OCT_SIZES_BITS.includes(bits)) {
    throw new BadParameter(`The transferred oct key must be ${OCT_SIZES_BITS.join(', ')} bits.`);
  }
  return { kty: 'oct', bits };
}
const field = (value: string) => decodeStored(value);

/**
 * Key Vault keys in a PKCS#11 token (`-HSM` keys of premium vaults): generated, imported and
 * unwrapped into the token as private, sensitive token objects, and used only there. The stored
 * material is a reference (CKA_ID) and the public part; purge destroys the token objects.
 */
export class Pkcs11KeyProvider implements KeyOperations<HsmKeyMaterial> {
  readonly #objects: KeyObjects;
  readonly #operations: TokenOperations;
  readonly #transfer: KeyTransfer;

  constructor(
    readonly token: Pkcs11Token,
    backupKeyLabel?: string,
  ) {
    this.#objects = new KeyObjects(token);
    this.#operations = new TokenOperations(token, this.#objects);
    this.#transfer = new KeyTransfer(token, this.#objects, backupKeyLabel);
  }

  /** Opens the token and checks the backup key, if one is configured; a Pkcs11ConfigError says what is wrong. */
  static async open(options: TokenOptions & { backupKeyLabel?: string }): Promise<Pkcs11KeyProvider> {
    const provider = new Pkcs11KeyProvider(await Pkcs11Token.open(options), options.backupKeyLabel);
    const problem = await provider.checkBackupKey();
    if (problem) {
      provider.token.close();
      throw new Pkcs11ConfigError(
        `the HSM backup key is not usable: ${problem}. Create it with \`coffer hsm create-backup-key\` (security officer PIN in COFFER_PKCS11_SO_PIN), or remove pkcs11.backupKeyLabel.`,
      );
    }
    return provider;
  }

  /** Undefined when the configured backup key is usable, else what is wrong with it. */
  checkBackupKey(): Promise<string | undefined> {
    return this.#transfer.checkBackupKey();
  }

  #names(label: string | undefined): ObjectNames {
    return { id: randomBytes(16), label: `coffer/${label ?? 'key'}` };
  }

  #material(id: Buffer): { id: string; platform: string } {
    return { id: id.toString('hex'), platform: this.token.platform };
  }

  async generate(spec: KeySpec, label?: string): Promise<HsmKeyMaterial> {
    const names = this.#names(label);
    const policy = this.#transfer.policy;
    if (spec.kty === 'oct') {
      const bits = spec.size ?? 256;
      if (!OCT_SIZES_BITS.includes(bits)) {
        throw new BadParameter(`An oct key size must be one of ${OCT_SIZES_BITS.join(', ')} bits.`);
      }
      await this.#objects.generate({ kty: 'oct', bits }, names, policy);
      return { kty: 'oct', hsm: this.#material(names.id), bits };
    }
    if (spec.kty === 'RSA') {
      const bits = spec.size ?? 2048;
      if (!RSA_SIZES_BITS.includes(bits)) {
        throw new BadParameter(`An RSA key size must be one of ${RSA_SIZES_BITS.join(', ')} bits.`);
      }
      await this.#objects.generate(
        { kty: 'RSA', bits, exponent: spec.publicExponent ?? DEFAULT_EXPONENT },
        names,
        policy,
      );
    } else {
      const curve = spec.curve ?? 'P-256';
      if (!CURVES.includes(curve))
        throw new BadParameter(`An EC key's curve must be one of ${CURVES.join(', ')}.`);
      await this.#objects.generate({ kty: 'EC', curve }, names, policy);
    }
    return this.#withPublicPart(names.id, spec.kty);
  }

  async #withPublicPart(id: Buffer, kty: 'RSA' | 'EC'): Promise<HsmKeyMaterial> {
    const hsm = this.#material(id);
    return { ...(await this.#objects.publicPart(hsm.id, kty)), hsm };
  }

  /** A client's validated private JWK, created in the token as private and public objects. */
  async importMaterial(jwk: StoredKeyMaterial, label?: string): Promise<HsmKeyMaterial> {
    const names = this.#names(label);
    const policy = this.#transfer.policy;
    const templates: Template[] =
      jwk.kty === 'oct'
        ? [
            [
              ...classAndType(ck.CKO_SECRET_KEY, ck.CKK_AES),
              ...secretKeyTemplate(names, policy),
              { type: ck.CKA_VALUE, value: field(jwk.k) },
            ],
          ]
        : [
            [
              ...classAndType(ck.CKO_PRIVATE_KEY, keyType(jwk.kty)),
              ...privateKeyTemplate(jwk.kty, names, policy),
              ...privateValues(jwk),
            ],
            [
              ...classAndType(ck.CKO_PUBLIC_KEY, keyType(jwk.kty)),
              ...publicKeyTemplate(jwk.kty, names),
              ...publicValues(jwk),
            ],
          ];
    await this.#undoOnFailure(names, () =>
      this.#objects.create(templates, `${jwk.kty} keys of this size or curve`),
    );
    const hsm = this.#material(names.id);
    if (jwk.kty === 'oct') return { kty: 'oct', hsm, bits: field(jwk.k).length * 8 };
    return jwk.kty === 'RSA'
      ? { kty: 'RSA', hsm, n: jwk.n, e: jwk.e }
      : { kty: 'EC', hsm, crv: jwk.crv, x: jwk.x, y: jwk.y };
  }

  /** BYOK: the target key unwrapped in the token with `kek`, then checked against what the request said it is. */
  async importWrapped(
    kek: HsmKeyMaterial,
    ciphertext: Buffer,
    target: TransferTarget,
    label?: string,
  ): Promise<HsmKeyMaterial> {
    const names = this.#names(label);
    const arrival = transferArrival(kek, ciphertext, target);
    await this.#transfer.unwrapTransfer(kek, ciphertext, target, names);
    return this.#undoOnFailure(names, () => this.#completeArrived(names, arrival));
  }

  async exportForBackup(material: HsmKeyMaterial): Promise<HsmKeyMaterial> {
    return { ...material, hsm: { ...material.hsm, wrapped: await this.#transfer.wrapForBackup(material) } };
  }

  async importFromBackup(material: HsmKeyMaterial, label?: string): Promise<HsmKeyMaterial> {
    const names = this.#names(label);
    await this.#transfer.unwrapBackup(material, names);
    const publicPart = this.publicJwk(material);
    const arrival: Arrival =
      material.kty === 'oct'
        ? { kty: 'oct', bits: material.bits }
        : { kty: material.kty, publicPart: publicPart as PublicPart };
    return this.#undoOnFailure(names, () => this.#completeArrived(names, arrival));
  }

  /**
   * A key that arrived wrapped has only its private or secret object: check it is the key the
   * caller said (type, curve, size), and create its public object.
   */
  async #completeArrived(names: ObjectNames, arrival: Arrival): Promise<HsmKeyMaterial> {
    const hsm = this.#material(names.id);
    if (arrival.kty === 'oct') {
      // Some tokens (SoftHSM) leave CKA_VALUE_LEN empty on unwrapped keys; the size is known anyway.
      const [length] = await this.#read(hsm.id, 'secret', [ck.CKA_VALUE_LEN]);
      const told = length && length.length >= 4 ? length.readUInt32LE(0) * 8 : 0;
      if (told !== 0 && told !== arrival.bits)
        throw new BadParameter(`The transferred oct key is not ${arrival.bits} bits.`);
      return { kty: 'oct', hsm, bits: arrival.bits };
    }
    // A backup carries the public part; a BYOK key's is read (RSA) or recovered (EC) in the token.
    const publicPart =
      arrival.publicPart ??
      (arrival.kty === 'RSA' ? await this.#arrivedRsa(hsm.id) : await this.#arrivedEc(hsm.id, arrival.crv));
    await this.#objects.create(
      [
        [
          ...classAndType(ck.CKO_PUBLIC_KEY, keyType(publicPart.kty)),
          ...publicKeyTemplate(publicPart.kty, names),
          ...publicValues(publicPart),
        ],
      ],
      'public keys',
    );
    return { ...publicPart, hsm };
  }

  async #arrivedRsa(id: string) {
    const [n, e] = (await this.#read(id, 'private', [ck.CKA_MODULUS, ck.CKA_PUBLIC_EXPONENT])).map(
      stripZeros,
    );
    const bits = bitLength(n!);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
      throw new BadParameter(
        `An RSA key must be ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits; this one has ${bits}.`,
      );
    }
    return { kty: 'RSA' as const, n: n!.toString('base64url'), e: e!.toString('base64url') };
  }

  async #arrivedEc(id: string, crv: string | undefined) {
    return this.#objects.withObject(id, 'private', async (api, session, key) => {
      const [params] = attributes(api, session, key, [ck.CKA_EC_PARAMS]);
      const curve = curveOfParams(params!);
      if (crv !== undefined && crv !== curve) {
        throw new BadParameter(`The transferred EC key is on ${curve}, not on ${crv} as the request says.`);
      }
      const { x, y } = await recoverPublicPoint(api, session, key, curve);
      // The derivation served once, to find the public point; the key does not keep it.
      dropDerive(api, session, key);
      return { kty: 'EC' as const, crv: curve, x: x.toString('base64url'), y: y.toString('base64url') };
    });
  }

  #read(id: string, role: 'private' | 'secret', types: number[]): Promise<Buffer[]> {
    return this.#objects.withObject(id, role, async (api, session, key) =>
      attributes(api, session, key, types),
    );
  }

  /** Whatever was created for a key that then failed to complete is destroyed, so nothing is left behind. */
  async #undoOnFailure<T>(names: ObjectNames, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.#objects.destroy(names.id.toString('hex')).catch(() => undefined);
      throw error;
    }
  }

  destroy(material: HsmKeyMaterial): Promise<void> {
    return this.#objects.destroy(material.hsm.id);
  }

  publicJwk(material: HsmKeyMaterial): PublicJwk {
    if (material.kty === 'RSA') return { kty: 'RSA', n: material.n, e: material.e };
    if (material.kty === 'EC') return { kty: 'EC', crv: material.crv, x: material.x, y: material.y };
    return { kty: 'oct' };
  }

  keySize(material: HsmKeyMaterial): number {
    if (material.kty === 'oct') return material.bits;
    if (material.kty === 'EC') return curveParams(material.crv)!.bits;
    return bitLength(field(material.n));
  }

  sign(material: HsmKeyMaterial, alg: string, digest: Buffer): Promise<Buffer> {
    return this.#operations.sign(material, alg, digest);
  }
  verify(material: HsmKeyMaterial, alg: string, digest: Buffer, signature: Buffer): Promise<boolean> {
    return this.#operations.verify(material, alg, digest, signature);
  }
  encrypt(
    material: HsmKeyMaterial,
    alg: string,
    plaintext: Buffer,
    options: EncryptOptions = {},
  ): Promise<EncryptResult> {
    return this.#operations.encrypt(material, alg, plaintext, options);
  }
  decrypt(
    material: HsmKeyMaterial,
    alg: string,
    ciphertext: Buffer,
    options: DecryptOptions = {},
  ): Promise<Buffer> {
    return this.#operations.decrypt(material, alg, ciphertext, options);
  }
  wrapKey(material: HsmKeyMaterial, alg: string, key: Buffer): Promise<Buffer> {
    return this.#operations.wrapKey(material, alg, key);
  }
  unwrapKey(material: HsmKeyMaterial, alg: string, wrapped: Buffer): Promise<Buffer> {
    return this.#operations.unwrapKey(material, alg, wrapped);
  }

  async close(): Promise<void> {
    this.token.close();
  }
}

/** Bits of a big-endian integer without leading zero bytes. */
const bitLength = (bytes: Buffer) => (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0] ?? 0));

const keyType = (kty: 'RSA' | 'EC') => (kty === 'RSA' ? ck.CKK_RSA : ck.CKK_EC);

function privateValues(jwk: Exclude<StoredKeyMaterial, { kty: 'oct' }>): Template {
  if (jwk.kty === 'EC') {
    return [
      { type: ck.CKA_EC_PARAMS, value: EC_PARAMS[jwk.crv] },
      { type: ck.CKA_VALUE, value: field(jwk.d) },
    ];
  }
  return [
    { type: ck.CKA_MODULUS, value: field(jwk.n) },
    { type: ck.CKA_PUBLIC_EXPONENT, value: field(jwk.e) },
    { type: ck.CKA_PRIVATE_EXPONENT, value: field(jwk.d) },
    { type: ck.CKA_PRIME_1, value: field(jwk.p) },
    { type: ck.CKA_PRIME_2, value: field(jwk.q) },
    { type: ck.CKA_EXPONENT_1, value: field(jwk.dp) },
    { type: ck.CKA_EXPONENT_2, value: field(jwk.dq) },
    { type: ck.CKA_COEFFICIENT, value: field(jwk.qi) },
  ];
}

function publicValues(
  part:
    { kty: 'RSA'; n: string; e: string } | { kty: 'EC'; crv: keyof typeof EC_PARAMS; x: string; y: string },
): Template {
  if (part.kty === 'EC') {
    return [
      { type: ck.CKA_EC_PARAMS, value: EC_PARAMS[part.crv] },
      { type: ck.CKA_EC_POINT, value: encodeEcPoint(field(part.x), field(part.y)) },
    ];
  }
  return [
    { type: ck.CKA_MODULUS, value: field(part.n) },
    { type: ck.CKA_PUBLIC_EXPONENT, value: field(part.e) },
  ];
}

function dropDerive(api: Pkcs11Api, session: Handle, key: Handle): void {
  try {
    api.C_SetAttributeValue(session, key, [{ type: ck.CKA_DERIVE, value: false }]);
  } catch {
    // A token that will not change the attribute keeps it: only Coffer's code uses the key.
  }
}
