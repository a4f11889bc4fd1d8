import { BadParameter } from '../errors/index.js';
import { parseDurationMs } from '../lib/duration.js';

export type RotationActionType = 'Rotate' | 'Notify';

export interface LifetimeAction {
  trigger: { timeAfterCreate?: string; timeBeforeExpiry?: string };
  action: { type: RotationActionType };
}

/** A key's rotation policy as stored; times are Unix seconds. */
export interface RotationPolicy {
  lifetimeActions: LifetimeAction[];
  /** ISO-8601 duration: how long each new version is valid (sets its exp). */
  expiryTime?: string;
  created: number;
  updated: number;
  /** The key version a Notify action last fired for, so it fires once per version. */
  notifiedVersion?: string;
}

const DAY_MS = 86400_000;
const MIN_EXPIRY_MS = 28 * DAY_MS;
const MIN_TRIGGER_MS = 7 * DAY_MS;

/** What Key Vault answers for a key that never had a policy set: notify 30 days before expiry. */
export function defaultRotationPolicy(): Omit<RotationPolicy, 'created' | 'updated'> {
  return { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }] };
}

function durationMs(text: unknown, field: string): number {
  const ms = typeof text === 'string' ? parseDurationMs(text) : undefined;
  if (ms === undefined)
    throw new BadParameter(
      `${field} must be an ISO-8601 duration such as P90D; got '${String(text).slice(0, 40)}'.`,
    );
  return ms;
}

/** Key Vault's rules for a policy a caller sends; returns it with action types normalised. */
export function validateRotationPolicy(input: {
  lifetimeActions?: Array<{ trigger?: Record<string, unknown>; action?: { type?: unknown } }>;
  expiryTime?: string;
}): Pick<RotationPolicy, 'lifetimeActions' | 'expiryTime'> {
  const expiryMs =
    input.expiryTime === undefined ? undefined : durationMs(input.expiryTime, 'attributes.expiryTime');
  if (expiryMs !== undefined && expiryMs < MIN_EXPIRY_MS) {
    throw new BadParameter('attributes.expiryTime must be at least 28 days (P28D).');
  }
  const actions = (input.lifetimeActions ?? []).map((entry, index) => {
    const type = String(entry.action?.type ?? '').toLowerCase();
    if (type !== 'rotate' && type !== 'notify') {
      throw new BadParameter(`lifetimeActions[${index}].action.type must be Rotate or Notify.`);
    }
    const { timeAfterCreate, timeBeforeExpiry } = entry.trigger ?? {};
    if ((timeAfterCreate === undefined) === (timeBeforeExpiry === undefined)) {
      throw new BadParameter(
        `lifetimeActions[${index}].trigger needs exactly one of timeAfterCreate or timeBeforeExpiry.`,
      );
    }
    const field = timeAfterCreate !== undefined ? 'timeAfterCreate' : 'timeBeforeExpiry';
    const ms = durationMs(timeAfterCreate ?? timeBeforeExpiry, `lifetimeActions[${index}].trigger.${field}`);
    if (ms < MIN_TRIGGER_MS)
      throw new BadParameter(`lifetimeActions[${index}].trigger.${field} must be at least 7 days (P7D).`);
    if (timeBeforeExpiry !== undefined && expiryMs !== undefined && ms >= expiryMs) {
      throw new BadParameter(
        `lifetimeActions[${index}].trigger.timeBeforeExpiry must be shorter than expiryTime.`,
      );
    }
    const trigger =
      timeAfterCreate !== undefined
        ? { timeAfterCreate: String(timeAfterCreate) }
        : { timeBeforeExpiry: String(timeBeforeExpiry) };
    return { trigger, action: { type: (type === 'rotate' ? 'Rotate' : 'Notify') as RotationActionType } };
  });
  if (actions.filter((action) => action.action.type === 'Rotate').length > 1) {
    throw new BadParameter('A rotation policy may have at most one Rotate action.');
  }
  return { lifetimeActions: actions, expiryTime: input.expiryTime };
}

/**
 * Whether a lifetime action is due for a key version created at `createdMs` that expires at
 * `expiresMs` (if it does), at time `nowMs`.
 */
export function isActionDue(
  action: LifetimeAction,
  createdMs: number,
  expiresMs: number | undefined,
  nowMs: number,
): boolean {
  if (action.trigger.timeAfterCreate !== undefined) {
    return nowMs >= createdMs + (parseDurationMs(action.trigger.timeAfterCreate) ?? Number.POSITIVE_INFINITY);
  }
  if (action.trigger.timeBeforeExpiry !== undefined && expiresMs !== undefined) {
    return nowMs >= expiresMs - (parseDurationMs(action.trigger.timeBeforeExpiry) ?? 0);
  }
  return false;
}
