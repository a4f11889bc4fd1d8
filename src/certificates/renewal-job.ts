import type { Clock } from '../lib/clock.js';
import type { VaultRecord } from '../vaults/types.js';
import type { CertificateService } from './service.js';
import type { Contact, LifetimeAction } from './types.js';

export interface CertificateExpiryNotice {
  vault: string;
  certificate: string;
  version: string;
  notBefore: number;
  expiresOn: number | undefined;
  contacts: Contact[];
}

const DAY_SECONDS = 24 * 60 * 60;

/** When a lifetime action falls due for a certificate valid from `nbf` to `exp` (Unix seconds). */
export function actionDueAt(action: LifetimeAction, nbf: number, exp: number): number {
  const { lifetimePercentage, daysBeforeExpiry } = action.trigger;
  if (lifetimePercentage !== undefined) return nbf + Math.floor(((exp - nbf) * lifetimePercentage) / 100);
  return exp - (daysBeforeExpiry ?? 0) * DAY_SECONDS;
}

/**
 * Applies certificate policies' lifetime actions once per version: `AutoRenew` issues a new
 * version from the policy; `EmailContacts` hands a notice with the vault's contacts to `notify`
 * (the CertificateNearExpiry event). A certificate that cannot be renewed (its CA
 * expired, say) is reported and the sweep goes on with the others.
 */
export function certificateRenewalSweep(deps: {
  certificates: Pick<CertificateService, 'list' | 'readPolicy' | 'renew' | 'markActed' | 'contacts'>;
  clock: Clock;
  /** Raises the notice (the CertificateNearExpiry event); resolves once it is stored. */
  notify: (vault: VaultRecord, notice: CertificateExpiryNotice) => Promise<void>;
  onError: (error: unknown, certificate: string) => void;
}) {
  const contactsOf = (vault: VaultRecord) => deps.certificates.contacts.getContacts(vault).catch(() => []);

  return async (vault: VaultRecord): Promise<number> => {
    let acted = 0;
    let after: string | undefined;
    for (;;) {
      const page = await deps.certificates.list(vault, after, 25);
      for (const { head, record } of page.items) {
        const policy = await deps.certificates.readPolicy(vault, head.name);
        const { nbf, exp } = record;
        if (!policy || nbf === undefined || exp === undefined) continue;
        const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
        const due = new Set(
          policy.lifetimeActions
            .filter((action) => actionDueAt(action, nbf, exp) <= nowSeconds)
            .map((a) => a.action),
        );
        try {
          if (due.has('EmailContacts') && policy.actedVersion !== record.version) {
            const contacts = await contactsOf(vault);
            await deps.notify(vault, {
              vault: vault.name,
              certificate: head.name,
              version: record.version,
              notBefore: nbf,
              expiresOn: exp,
              contacts,
            });
            await deps.certificates.markActed(vault, head.name, record.version);
            acted++;
          }
          // A renewal makes a new latest version, so it runs once; a failed one is tried next sweep.
          if (due.has('AutoRenew')) {
            await deps.certificates.renew(vault, head.name);
            acted++;
          }
        } catch (error) {
          deps.onError(error, head.name);
        }
      }
      if (!page.next) return acted;
      after = page.next;
    }
  };
}
