import { BadParameter } from '../errors/index.js';
import type { SecretProperties } from './types.js';

/** Key Vault's limits for secrets (service limits from Azure's documentation). */
export const SECRET_LIMITS = {
  nameLength: 127,
  valueBytes: 25 * 1024,
  tags: 15,
  tagNameLength: 512,
  tagValueLength: 256,
  contentTypeLength: 255,
} as const;

const NAME_PATTERN = /^[0-9a-zA-Z-]+$/;

export function validateSecretName(name: string): string {
  if (!name || name.length > SECRET_LIMITS.nameLength || !NAME_PATTERN.test(name)) {
    throw new BadParameter(
      `The secret name '${name.slice(0, 140)}' is not valid: use 1-${SECRET_LIMITS.nameLength} characters, each a letter, a digit or '-'.`,
    );
  }
  return name;
}

export function validateSecretValue(value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > SECRET_LIMITS.valueBytes) {
    throw new BadParameter(
      `The secret value is ${bytes} bytes; a secret value may be at most ${SECRET_LIMITS.valueBytes} bytes (25 KB).`,
    );
  }
}

export function validateSecretProperties(properties: SecretProperties): void {
  const { contentType, tags, nbf, exp } = properties;
  if (contentType !== undefined && contentType.length > SECRET_LIMITS.contentTypeLength) {
    throw new BadParameter(`contentType may be at most ${SECRET_LIMITS.contentTypeLength} characters.`);
  }
  if (tags !== undefined) validateTags(tags);
  if (nbf !== undefined && exp !== undefined && nbf > exp) {
    throw new BadParameter('attributes.nbf (not before) must not be later than attributes.exp (expiry).');
  }
}

export function validateTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > SECRET_LIMITS.tags) {
    throw new BadParameter(
      `At most ${SECRET_LIMITS.tags} tags are allowed; the request has ${entries.length}.`,
    );
  }
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > SECRET_LIMITS.tagNameLength) {
      throw new BadParameter(`A tag name must be 1-${SECRET_LIMITS.tagNameLength} characters.`);
    }
    if (typeof value !== 'string' || value.length > SECRET_LIMITS.tagValueLength) {
      throw new BadParameter(
        `The value of tag '${name}' must be a string of at most ${SECRET_LIMITS.tagValueLength} characters.`,
      );
    }
  }
}
