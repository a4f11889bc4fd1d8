import type { VaultRecord } from '../vaults/types.js';

/**
 * What secrets, keys and certificates share: named objects with versions, soft delete,
 * recovery, purge and backup. Times are Unix seconds, as on Azure's wire.
 */
export interface VersionRecord {
  version: string;
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  tags?: Record<string, string>;
  /** Owned by the certificate of the same name: changed only through it (Key Vault's `managed`). */
  managed?: boolean;
}

/** The current state of a name: which version is latest. */
export interface ObjectHead {
  /** The name as first written; lookups ignore case. */
  name: string;
  latestVersion: string;
}

export interface DeletedHead extends ObjectHead {
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface ObjectView<R extends VersionRecord> {
  head: ObjectHead;
  record: R;
}

export interface DeletedView<R extends VersionRecord> {
  head: DeletedHead;
  record: R;
}

export interface Page<T> {
  items: T[];
  /** Opaque position for the next page, or undefined on the last page. */
  next?: string;
}

/** How one kind of object is named in storage, errors and backups. */
export interface ObjectKind {
  /** Storage and URL segment: `secrets`, `keys`, `certificates`. */
  collection: string;
  /** `Secret`, `Key`, `Certificate`: as Azure's messages say it. */
  noun: string;
  /** Azure's 404 code: `SecretNotFound`, `KeyNotFound`, `CertificateNotFound`. */
  notFoundCode: string;
}

/**
 * What versions own outside the barrier (an HSM key's token objects), kept in step with the
 * records: released when they are purged, carried in wrapped form by backups, and made again
 * (or the restore undone) when a backup is restored.
 */
export interface OutsideState {
  /** Inside the purge transaction, with every record and companion value it removes. */
  purging(tx: { writePath(path: string, value: unknown): Promise<void> }, removed: unknown[]): Promise<void>;
  /** After the purge committed: releases what `purging` queued. */
  purged(vault: VaultRecord): Promise<void>;
  /** A record or companion value as a backup carries it. */
  exported<T>(value: T): Promise<T>;
  /** Values from a backup made usable here, and how to undo that if the restore then fails. */
  imported<T>(values: T[], label: string): Promise<{ values: T[]; undo(): Promise<void> }>;
}

/**
 * A committed change the events module hears about (docs/events.md): what happened to which
 * object, with the version's dates. Identifiers and dates only, never content.
 */
export interface ObjectChange {
  action: 'NewVersion' | 'Deleted' | 'Recovered' | 'Purged';
  /** `Secret`, `Key`, `Certificate`. */
  noun: string;
  name: string;
  version?: string;
  nbf?: number;
  exp?: number;
}

/** Told of each committed change; failures are its own to log, never the write's. */
export type ObjectChangeListener = (vault: VaultRecordRef, change: ObjectChange) => Promise<void>;

/** The vault as a listener needs it (the domain's VaultRecord satisfies it). */
export interface VaultRecordRef {
  id: string;
  name: string;
}
