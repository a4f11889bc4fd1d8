import { BadParameter } from '../errors/index.js';
import { checkNoControlCharacters, validateCommonProperties } from '../objects/validation.js';
import type { SecretProperties } from './types.js';

/** Key Vault's limits for secret values and content types (Azure's documentation). */
export const SECRET_LIMITS = {
  valueBytes: 25 * 1024,
  contentTypeLength: 255,
} as const;

export function validateSecretValue(value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > SECRET_LIMITS.valueBytes) {
    throw new BadParameter(
      `The secret value is ${bytes} bytes; a secret value may be at most ${SECRET_LIMITS.valueBytes} bytes (25 KB).`,
    );
  }
}

export function validateSecretProperties(properties: SecretProperties): void {
  if (properties.contentType !== undefined) {
    if (properties.contentType.length > SECRET_LIMITS.contentTypeLength) {
      throw new BadParameter(`contentType may be at most ${SECRET_LIMITS.contentTypeLength} characters.`);
    }
    checkNoControlCharacters(properties.contentType, 'contentType');
  }
  validateCommonProperties(properties);
}
