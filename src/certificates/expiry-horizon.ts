import type { VaultRecord } from '../vaults/types.js';
import type { CertificateService } from './service.js';

const PAGE = 100;

/**
 * Per vault holding certificates: the soonest `exp` (Unix seconds) among their current
 * versions, for the certificate expiry horizon metric. Reads metadata only, a page at a time.
 */
export async function soonestCertificateExpiries(
  vaults: VaultRecord[],
  certificates: Pick<CertificateService, 'list'>,
): Promise<Map<string, number>> {
  const soonest = new Map<string, number>();
  for (const vault of vaults) {
    let after: string | undefined;
    do {
      const page = await certificates.list(vault, after, PAGE);
      for (const { record } of page.items) {
        if (record.exp === undefined) continue;
        const current = soonest.get(vault.name);
        if (current === undefined || record.exp < current) soonest.set(vault.name, record.exp);
      }
      after = page.next;
    } while (after);
  }
  return soonest;
}
