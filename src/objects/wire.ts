import { recoveryLevel, type VaultRecord } from '../vaults/types.js';
import type { DeletedHead, VersionRecord } from './types.js';

/** The attributes every object version reports, with the vault's recovery settings. */
export function objectAttributes(record: VersionRecord, vault: VaultRecord) {
  return {
    enabled: record.enabled,
    nbf: record.nbf,
    exp: record.exp,
    created: record.created,
    updated: record.updated,
    recoverableDays: vault.softDeleteRetentionInDays,
    recoveryLevel: recoveryLevel(vault),
  };
}

/** Wire pieces every object kind shares: the deleted-object fields and list envelopes. */
export function deletedFields(baseUrl: string, collection: string, head: DeletedHead) {
  return {
    recoveryId: `${baseUrl}/deleted${collection}/${head.name}`,
    deletedDate: head.deletedDate,
    scheduledPurgeDate: head.scheduledPurgeDate,
  };
}

export const deletedPropertiesSchema = {
  recoveryId: { type: 'string' },
  deletedDate: { type: 'integer' },
  scheduledPurgeDate: { type: 'integer' },
} as const;

/** `{value: [...], nextLink}`: nextLink is null on the last page, as Key Vault answers. */
export function listSchema(properties: object) {
  return {
    type: 'object',
    properties: {
      value: { type: 'array', items: { type: 'object', properties } },
      nextLink: { type: ['string', 'null'] },
    },
  };
}
