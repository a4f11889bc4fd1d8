/** JSON schema pieces shared by the Azure wire formats. */
export const tagsSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;
export const nullableTagsSchema = {
  type: ['object', 'null'],
  additionalProperties: { type: 'string' },
} as const;

/** Object attributes a caller may send; read-only fields are accepted and ignored, as Azure does. */
export const attributesInputSchema = {
  type: ['object', 'null'],
  properties: {
    enabled: { type: ['boolean', 'null'] },
    nbf: { type: ['integer', 'null'] },
    exp: { type: ['integer', 'null'] },
  },
} as const;

export const attributesOutputSchema = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' },
    nbf: { type: 'integer' },
    exp: { type: 'integer' },
    created: { type: 'integer' },
    updated: { type: 'integer' },
    recoverableDays: { type: 'integer' },
    recoveryLevel: { type: 'string' },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/** `null` on the wire means "not given". */
export function given<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}
