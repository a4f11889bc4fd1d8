const DOTTED = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/**
 * Whether text is a dotted OID that encodes faithfully: the second arc under 0 and 1 is below 40
 * (X.690 packs the first two arcs into one number), and every arc is a safe integer.
 */
export function isObjectIdentifier(text: unknown): text is string {
  if (typeof text !== 'string' || !DOTTED.test(text)) return false;
  const arcs = text.split('.').map(Number);
  if (arcs.some((arc) => !Number.isSafeInteger(arc))) return false;
  return arcs[0] === 2 || arcs[1]! < 40;
}
