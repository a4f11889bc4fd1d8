/**
 * The event type alerts are published as once the events mechanism (issue 13, point 5) is
 * wired: `publishEvent(alert.vault ?? '', ALERT_EVENT_TYPE, alert.rule, alert)`.
 */
export const ALERT_EVENT_TYPE = 'Coffer.Security.AlertRaised';

export type AlertRule =
  'refusedBurst' | 'distinctSecretReads' | 'newAddress' | 'destructive' | 'accessChange';

/** What a rule found. Never a secret value, token or object name: counts, ids, addresses, operations. */
export interface Alert {
  rule: AlertRule;
  /** Who: the caller's object id, else its app id, else `address:{ip}` for callers without a token. */
  caller: string;
  /** The vault concerned, when there is one. */
  vault?: string;
  /** Rule-specific facts (see docs/metrics.md, "Alerts"), each a short string or a number. */
  details: Record<string, string | number>;
}

/** The one seam alerts leave through: the events work publishes them; until then nothing more. */
export type RaiseAlert = (alert: Alert) => void;
