import { randomBytes } from 'node:crypto';
import { BadParameter } from '../../../errors/index.js';
import { curveParams } from '../ec-curves.js';
import { RSA_SIZES_BITS } from '../generate.js';
import { OCT_SIZES_BITS, decodeStored } from '../jwk.js';
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
  hsmPublicJwk,
} from '../types.js';
import { Pkcs11ConfigError, type Template, ck } from './library.js';
import { KeyObjects, type PublicPart } from './objects.js';
import { type Arrival, completeArrived, transferArrival } from './arrival.js';
import { bitLength, privateValues, publicValues } from './key-values.js';
import { TokenOperations } from './operations.js';
import {
  type ObjectNames,
  classAndType,
  keyTypeOf,
  privateKeyTemplate,
  publicKeyTemplate,
  secretKeyTemplate,
} from './templates.js';
import { Pkcs11Token, type TokenOptions } from './token.js';
import { KeyTransfer } from './transfer.js';

const DEFAULT_EXPONENT = 65537;
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
              ...classAndType(ck.CKO_PRIVATE_KEY, keyTypeOf(jwk.kty)),
              ...privateKeyTemplate(jwk.kty, names, policy),
              ...privateValues(jwk),
            ],
            [
              ...classAndType(ck.CKO_PUBLIC_KEY, keyTypeOf(jwk.kty)),
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
    return this.#undoOnFailure(names, () =>
      completeArrived(this.#objects, names, this.#material(names.id), arrival),
    );
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
    return this.#undoOnFailure(names, () =>
      completeArrived(this.#objects, names, this.#material(names.id), arrival),
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
    return hsmPublicJwk(material);
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
