import { BadParameter } from '../errors/index.js';

/** Key Vault's service limits shared by secrets, keys and certificates (Azure's documentation). */
export const OBJECT_LIMITS = {
  nameLength: 127,
  tags: 15,
  tagNameLength: 512,
  tagValueLength: 256,
} as const;

const NAME_PATTERN = /^[0-9a-zA-Z-]+$/;
/**
 * C0 controls (tab and newline included), DEL and C1 controls: never part of a tag or a media
 * type, and a way to forge log lines or confuse whatever displays or parses them later.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Refuses text holding a control character, saying which one (the text itself is not echoed). */
export function checkNoControlCharacters(text: string, what: string): void {
  const found = CONTROL_CHARACTER.exec(text);
  if (!found) return;
  const code = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  throw new BadParameter(`${what} contains the control character U+${code}; use printable characters only.`);
}

export function validateObjectName(name: string, noun: string): string {
  if (!name || name.length > OBJECT_LIMITS.nameLength || !NAME_PATTERN.test(name)) {
    throw new BadParameter(
      `The ${noun.toLowerCase()} name '${name.slice(0, 140)}' is not valid: use 1-${OBJECT_LIMITS.nameLength} characters, each a letter, a digit or '-'.`,
    );
  }
  return name;
}

export function validateTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > OBJECT_LIMITS.tags) {
    throw new BadParameter(
      `At most ${OBJECT_LIMITS.tags} tags are allowed; the request has ${entries.length}.`,
    );
  }
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > OBJECT_LIMITS.tagNameLength) {
      throw new BadParameter(`A tag name must be 1-${OBJECT_LIMITS.tagNameLength} characters.`);
    }
    checkNoControlCharacters(name, 'A tag name');
    if (typeof value !== 'string' || value.length > OBJECT_LIMITS.tagValueLength) {
      throw new BadParameter(
        `The value of tag '${name}' must be a string of at most ${OBJECT_LIMITS.tagValueLength} characters.`,
      );
    }
    checkNoControlCharacters(value, `The value of tag '${name}'`);
  }
}

/** The attributes every object version has: tags and the validity window. */
export function validateCommonProperties(properties: {
  tags?: Record<string, string>;
  nbf?: number;
  exp?: number;
}): void {
  if (properties.tags !== undefined) validateTags(properties.tags);
  if (properties.nbf !== undefined && properties.exp !== undefined && properties.nbf > properties.exp) {
    throw new BadParameter('attributes.nbf (not before) must not be later than attributes.exp (expiry).');
  }
}
