import { BadParameter, ServiceUnavailable } from '../../errors/index.js';
import type { Pkcs11KeyProvider } from './pkcs11/provider.js';
import type {
  DecryptOptions,
  EncryptOptions,
  EncryptResult,
  KeyPlacement,
  KeyProvider,
  KeyUse,
  TransferTarget,
} from './provider.js';
import type { SoftwareKeyProvider } from './software-provider.js';
import {
  type HsmKeyMaterial,
  type KeyMaterial,
  type KeySpec,
  type PublicJwk,
  hsmPublicJwk,
  isHsmMaterial,
} from './types.js';

/**
 * The one KeyProvider the domains use: each key goes to the backend that holds it. HSM keys (a
 * reference into the token) are served only by the PKCS#11 provider and software keys only by
 * the software provider; nothing moves from one to the other, and an HSM key on a server whose
 * token is not configured answers 503 rather than anything in software.
 */
export class RoutingKeyProvider implements KeyProvider {
  constructor(
    private readonly software: SoftwareKeyProvider,
    private readonly hsm?: Pkcs11KeyProvider,
  ) {}

  get hasHsm(): boolean {
    return this.hsm !== undefined;
  }

  #token(): Pkcs11KeyProvider {
    if (!this.hsm) {
      throw new ServiceUnavailable(
        'This key is held in an HSM, and this server has no PKCS#11 token configured. An operator must configure pkcs11 (see docs/hsm.md).',
      );
    }
    return this.hsm;
  }

  generate(spec: KeySpec, placement: KeyPlacement = {}): Promise<KeyMaterial> {
    return placement.hsm ? this.#token().generate(spec, placement.label) : this.software.generate(spec);
  }

  /** A JWK is validated in full (consistency included) before it goes anywhere, the token too. */
  async importJwk(jwk: object, placement: KeyPlacement = {}): Promise<KeyMaterial> {
    const material = this.software.importJwk(jwk);
    return placement.hsm ? this.#token().importMaterial(material, placement.label) : material;
  }

  async importWrapped(
    kek: KeyMaterial,
    ciphertext: Buffer,
    target: TransferTarget,
    placement: KeyPlacement = {},
  ): Promise<KeyMaterial> {
    if (!isHsmMaterial(kek)) {
      throw new BadParameter('The key-exchange key of a BYOK import must be an HSM key (RSA-HSM).');
    }
    return this.#token().importWrapped(kek, ciphertext, target, placement.label);
  }

  async destroy(material: KeyMaterial): Promise<void> {
    if (isHsmMaterial(material)) await this.#token().destroy(material);
  }

  async exportForBackup(material: KeyMaterial): Promise<KeyMaterial> {
    return isHsmMaterial(material) ? this.#token().exportForBackup(material) : material;
  }

  async importFromBackup(material: KeyMaterial, placement: KeyPlacement = {}): Promise<KeyMaterial> {
    return isHsmMaterial(material) ? this.#token().importFromBackup(material, placement.label) : material;
  }

  publicJwk(material: KeyMaterial): PublicJwk {
    // The public part is in the record: a GET works while the token is away.
    return isHsmMaterial(material) ? hsmPublicJwk(material) : this.software.publicJwk(material);
  }

  keySize(material: KeyMaterial): number {
    return isHsmMaterial(material) ? this.#hsmKeySize(material) : this.software.keySize(material);
  }

  #hsmKeySize(material: HsmKeyMaterial): number {
    return this.hsm ? this.hsm.keySize(material) : 0;
  }

  forgetKeyHandles(prefix?: string): void {
    this.software.forgetKeyHandles(prefix);
  }

  sign(material: KeyMaterial, alg: string, digest: Buffer, use?: KeyUse): Promise<Buffer> {
    return isHsmMaterial(material)
      ? this.#later(() => this.#token().sign(material, alg, digest))
      : this.software.sign(material, alg, digest, use);
  }

  verify(material: KeyMaterial, alg: string, digest: Buffer, signature: Buffer): Promise<boolean> {
    return isHsmMaterial(material)
      ? this.#later(() => this.#token().verify(material, alg, digest, signature))
      : this.software.verify(material, alg, digest, signature);
  }

  encrypt(
    material: KeyMaterial,
    alg: string,
    plaintext: Buffer,
    options?: EncryptOptions,
  ): Promise<EncryptResult> {
    return isHsmMaterial(material)
      ? this.#later(() => this.#token().encrypt(material, alg, plaintext, options))
      : this.software.encrypt(material, alg, plaintext, options);
  }

  decrypt(
    material: KeyMaterial,
    alg: string,
    ciphertext: Buffer,
    options?: DecryptOptions,
    use?: KeyUse,
  ): Promise<Buffer> {
    return isHsmMaterial(material)
      ? this.#later(() => this.#token().decrypt(material, alg, ciphertext, options))
      : this.software.decrypt(material, alg, ciphertext, options, use);
  }

  wrapKey(material: KeyMaterial, alg: string, key: Buffer): Promise<Buffer> {
    return isHsmMaterial(material)
      ? this.#later(() => this.#token().wrapKey(material, alg, key))
      : this.software.wrapKey(material, alg, key);
  }

  unwrapKey(material: KeyMaterial, alg: string, wrapped: Buffer, use?: KeyUse): Promise<Buffer> {
    return isHsmMaterial(material)
      ? this.#later(() => this.#token().unwrapKey(material, alg, wrapped))
      : this.software.unwrapKey(material, alg, wrapped, use);
  }

  /** The operations never throw: a missing token is a rejection like any other failure. */
  async #later<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  async close(): Promise<void> {
    await Promise.all([this.software.close(), this.hsm?.close()]);
  }
}
