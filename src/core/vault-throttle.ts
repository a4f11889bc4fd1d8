import { CofferError } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import type { ThrottleSetting } from '../vaults/types.js';

/**
 * Azure Key Vault's documented service limits, per vault per 10 seconds (learn.microsoft.com,
 * "Azure Key Vault service limits", resource type vault). Key transactions are weighted: the
 * limit applies to their weighted sum, so one RSA-4096 software operation costs 4000/500 = 8 of
 * the 4,000 units an RSA-2048 operation costs 1 of.
 */
export const AZURE_LIMITS = {
  windowMs: 10_000,
  /** Secret create, key import and certificate import, together. */
  creates: 300,
  /** Every other secret, certificate and vault transaction; the unit key operations are weighed in. */
  transactions: 4000,
  keyCreate: { software: 20, hsm: 10 },
  keyOperation: {
    software: { rsa2048: 4000, rsa3072: 1000, rsa4096: 500, ec: 4000 },
    hsm: { rsa2048: 2000, rsa3072: 500, rsa4096: 250, ec: 2000 },
  },
} as const;

/** What one request costs in Azure's terms: a create (secret/key/certificate import) or weighted units. */
export interface RequestCost {
  creates: number;
  units: number;
}

/** A key as the limits class it: software or HSM, RSA by size, or elliptic curve (oct counts as software EC). */
export interface KeyClass {
  hsm: boolean;
  rsaBits?: number;
}

/** Units one operation on a key of this class costs, out of the 4,000 of the window. */
export function keyOperationCost(key: KeyClass): number {
  const table = key.hsm ? AZURE_LIMITS.keyOperation.hsm : AZURE_LIMITS.keyOperation.software;
  const limit =
    key.rsaBits === undefined
      ? table.ec
      : key.rsaBits >= 4096
        ? table.rsa4096
        : key.rsaBits >= 3072
          ? table.rsa3072
          : table.rsa2048;
  return AZURE_LIMITS.transactions / limit;
}

export const keyCreateCost = (hsm: boolean): number =>
  AZURE_LIMITS.transactions / (hsm ? AZURE_LIMITS.keyCreate.hsm : AZURE_LIMITS.keyCreate.software);

/** Azure's answer, word for word, with the seconds after which the request would be admitted. */
export class VaultThrottled extends CofferError {
  constructor(retryAfterSeconds: number) {
    super(
      429,
      'Throttled',
      'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

/** A token bucket: `capacity` per window, refilled continuously. */
class Bucket {
  private tokens: number;
  private updatedMs: number;
  constructor(
    readonly capacity: number,
    private readonly windowMs: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.updatedMs = nowMs;
  }

  /** Seconds to wait before `cost` fits, or 0 when it fits now (nothing is taken). */
  waitFor(cost: number, nowMs: number): number {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((nowMs - this.updatedMs) * this.capacity) / this.windowMs,
    );
    this.updatedMs = nowMs;
    if (cost <= this.tokens) return 0;
    const missing = Math.min(cost, this.capacity) - this.tokens;
    return Math.max(1, Math.ceil((missing * this.windowMs) / this.capacity / 1000));
  }

  take(cost: number): void {
    this.tokens -= Math.min(cost, this.capacity);
  }

  /** The share of the capacity in use now (0-1), taking nothing. */
  used(nowMs: number): number {
    this.waitFor(0, nowMs);
    return 1 - this.tokens / this.capacity;
  }
}

/**
 * How the throttles of an installation's members (`--workers` processes, PostgreSQL nodes) tell
 * each other what they admitted (core/cluster-wiring.ts carries it over the cluster's feed).
 */
export interface ThrottleShare {
  publish(body: string): void;
  onMessage(handler: (body: string) => void): void;
}

/** What one member admitted for one vault since its last report. */
interface AdmittedReport {
  vault: string;
  name: string;
  setting: ThrottleSetting;
  units: number;
  creates: number;
}

/** How often a member reports what it admitted: one message per vault per interval, not per request. */
export const THROTTLE_SHARE_INTERVAL_MS = 100;

interface VaultBuckets {
  setting: ThrottleSetting;
  /** The vault's name, for metrics (buckets are kept by id, which a rename would not change). */
  name: string;
  creates?: Bucket;
  units: Bucket;
}

/**
 * Azure's service limits, on request, per vault (`throttle` on the vault: `azure`, or N
 * transactions of any kind per 10 seconds), so applications can test their retry logic before
 * production. Off by default. In memory; with `share`, every member also takes from its buckets
 * what the others report having admitted (each reports every THROTTLE_SHARE_INTERVAL_MS), so a
 * vault's allowance holds for the installation, give or take what the members admit before they
 * hear of each other (the interval plus the feed's stale bound).
 */
export function createVaultThrottle(clock: Clock, share?: ThrottleShare) {
  const byVault = new Map<string, VaultBuckets>();
  const throttled = new Map<string, number>();
  const unreported = new Map<string, AdmittedReport>();
  let reportTimer: NodeJS.Timeout | undefined;

  function report(
    vault: { id: string; name: string },
    setting: ThrottleSetting,
    units: number,
    creates: number,
  ) {
    if (!share) return;
    const pending = unreported.get(vault.id);
    if (pending && pending.setting === setting) {
      pending.units += units;
      pending.creates += creates;
    } else unreported.set(vault.id, { vault: vault.id, name: vault.name, setting, units, creates });
    reportTimer ??= setTimeout(() => {
      reportTimer = undefined;
      for (const admitted of unreported.values()) share.publish(JSON.stringify(admitted));
      unreported.clear();
    }, THROTTLE_SHARE_INTERVAL_MS).unref();
  }

  /** Another member's report: taken from this member's buckets for that vault, with the same setting only. */
  function heard(body: string): void {
    const admitted = parseReport(body);
    if (!admitted) return;
    const existing = byVault.get(admitted.vault);
    // A report made under another setting (it just changed) says nothing about the new allowance.
    if (existing && existing.setting !== admitted.setting) return;
    const buckets = bucketsOf({ id: admitted.vault, name: admitted.name }, admitted.setting);
    const now = clock.nowMs();
    buckets.units.waitFor(0, now);
    buckets.units.take(admitted.units);
    if (buckets.creates && admitted.creates > 0) {
      buckets.creates.waitFor(0, now);
      buckets.creates.take(admitted.creates);
    }
  }
  share?.onMessage(heard);

  function bucketsOf(
    vault: { id: string; name: string; throttle?: ThrottleSetting },
    setting: ThrottleSetting,
  ): VaultBuckets {
    let buckets = byVault.get(vault.id);
    if (!buckets || buckets.setting !== setting) {
      const now = clock.nowMs();
      const window = AZURE_LIMITS.windowMs;
      buckets =
        setting === 'azure'
          ? {
              setting,
              name: vault.name,
              creates: new Bucket(AZURE_LIMITS.creates, window, now),
              units: new Bucket(AZURE_LIMITS.transactions, window, now),
            }
          : { setting, name: vault.name, units: new Bucket(setting as number, window, now) };
      byVault.set(vault.id, buckets);
    }
    return buckets;
  }

  return {
    /** Whether the vault throttles at all; a request to an unthrottled vault costs nothing to classify. */
    enabled: (vault: { throttle?: ThrottleSetting }) =>
      vault.throttle !== undefined && vault.throttle !== 'off',

    /** Admits the request or throws 429 with Retry-After; `cost` is Azure's (a plain N counts requests). */
    admit(vault: { id: string; name: string; throttle?: ThrottleSetting }, cost: RequestCost): void {
      const setting = vault.throttle;
      if (setting === undefined || setting === 'off') return;
      const buckets = bucketsOf(vault, setting);
      const now = clock.nowMs();
      const units = setting === 'azure' ? cost.units : 1;
      const wait = Math.max(
        buckets.units.waitFor(units, now),
        setting === 'azure' && cost.creates > 0 ? buckets.creates!.waitFor(cost.creates, now) : 0,
      );
      if (wait > 0) {
        throttled.set(vault.name, (throttled.get(vault.name) ?? 0) + 1);
        throw new VaultThrottled(wait);
      }
      buckets.units.take(units);
      const creates = setting === 'azure' ? cost.creates : 0;
      if (creates > 0) buckets.creates!.take(creates);
      report(vault, setting, units, creates);
    },

    /** Requests refused with 429 per vault since start, for the metrics endpoint. */
    throttledCounts: (): Readonly<Record<string, number>> => Object.fromEntries(throttled),

    /**
     * Per throttled vault that has seen requests: the share of its window's allowance in use now,
     * in percent (Azure's SaturationShoebox); the fuller of its two buckets under `azure`.
     */
    usagePercent(): Readonly<Record<string, number>> {
      const now = clock.nowMs();
      const usage: Record<string, number> = {};
      for (const buckets of byVault.values()) {
        const used = Math.max(buckets.units.used(now), buckets.creates?.used(now) ?? 0);
        usage[buckets.name] = Math.round(used * 10_000) / 100;
      }
      return usage;
    },

    /** Drops a deleted vault's buckets and counts. */
    forget(vault: { id: string; name: string }): void {
      byVault.delete(vault.id);
      throttled.delete(vault.name);
      unreported.delete(vault.id);
    },
  };
}

export type VaultThrottle = ReturnType<typeof createVaultThrottle>;

/** A member's report, or undefined for anything else on the topic (members of other versions). */
function parseReport(body: string): AdmittedReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const report = value as Partial<AdmittedReport>;
  const setting = report.setting;
  const validSetting = setting === 'azure' || (typeof setting === 'number' && setting > 0);
  const count = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (
    typeof report.vault !== 'string' ||
    typeof report.name !== 'string' ||
    !validSetting ||
    !count(report.units) ||
    !count(report.creates)
  )
    return undefined;
  return report as AdmittedReport;
}
