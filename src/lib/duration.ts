/**
 * ISO-8601 durations as Key Vault uses them in rotation policies (`P90D`, `P1Y`, `P2M`,
 * `PT12H`). Years count as 365 days and months as 30, which is how a duration is turned into
 * a point in time here; callers compare, they never display the result.
 */
const DURATION_PATTERN =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

const UNIT_MS = [365 * 86400_000, 30 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000];

/** Milliseconds in an ISO-8601 duration, or undefined when the text is not one. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.toUpperCase());
  if (!match) return undefined;
  return UNIT_MS.reduce((total, unit, index) => total + Number(match[index + 1] ?? 0) * unit, 0);
}
