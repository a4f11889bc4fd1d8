/** JSON schema pieces shared by the Azure wire formats. */
export const tagsSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;
export const nullableTagsSchema = {
  type: ['object', 'null'],
  additionalProperties: { type: 'string' },
} as const;

/**
 * A time a caller may send, in Unix seconds: 0001-01-01 to 9999-12-31, what every SDK's date type
 * holds (a larger number would make a secret that clients cannot read back).
 */
const unixTimeInputSchema = {
  type: ['integer', 'null'],
  minimum: -62135596800,
  maximum: 253402300799,
} as const;

/**
 * Object attributes a caller may send; read-only fields are accepted and ignored, as Azure does.
 * Any other field is refused (`additionalProperties: false`, as in every request body where a
 * misspelled field silently dropped would leave the caller believing it applied: an expiry, a
 * key's operations, a certificate's SANs); the error handler names the field.
 */
export const attributesInputSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    enabled: { type: ['boolean', 'null'] },
    nbf: unixTimeInputSchema,
    exp: unixTimeInputSchema,
    created: { type: ['integer', 'null'] },
    updated: { type: ['integer', 'null'] },
    recoverableDays: { type: ['integer', 'null'] },
    recoveryLevel: { type: ['string', 'null'] },
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

/** `null` on the wire means "not given". */
export function given<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}
