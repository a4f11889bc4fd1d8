import { BadParameter } from '../errors/index.js';
import type { ObjectWriter } from './store.js';
import type { ObjectHead, OutsideState, VersionRecord } from './types.js';

/**
 * Seals and opens backup blobs with the installation's backup key: opaque to the holder,
 * integrity-protected, restorable into any vault of the same installation and no other.
 */
export interface BackupCodec {
  seal(kind: string, payload: Uint8Array): string;
  /** undefined when the blob is malformed, tampered or from another installation. */
  open(kind: string, blob: string): Buffer | undefined;
}

export interface BackupObject<R extends VersionRecord> {
  head: ObjectHead;
  versions: R[];
}

export interface BackupContents<R extends VersionRecord> extends BackupObject<R> {
  /** Records kept beside the object, by path in the vault's view (a policy). */
  companions?: Record<string, unknown>;
  /** Objects it owns in other collections (a certificate's key and secret), by collection. */
  linked?: Record<string, BackupObject<VersionRecord>>;
}

export function encodeBackup<R extends VersionRecord>(
  codec: BackupCodec,
  collection: string,
  contents: BackupContents<R>,
): string {
  return codec.seal(collection, Buffer.from(JSON.stringify({ v: 1, ...contents }), 'utf8'));
}

export function decodeBackup<R extends VersionRecord>(
  codec: BackupCodec,
  collection: string,
  noun: string,
  blob: string,
): BackupContents<R> {
  const opened = codec.open(collection, blob);
  if (!opened) {
    throw new BadParameter(
      `The backup blob is not valid: it is damaged, is not a ${noun.toLowerCase()} backup, or was made by another Coffer installation.`,
    );
  }
  const parsed = JSON.parse(opened.toString('utf8')) as BackupContents<R>;
  if (!parsed.versions.some((record) => record.version === parsed.head.latestVersion)) {
    throw new BadParameter('The backup blob is not valid: its latest version is missing.');
  }
  return parsed;
}

/** A backup's contents with every version, linked version and companion as backups carry them. */
export async function exportContents<R extends VersionRecord>(
  contents: BackupContents<R>,
  outside: OutsideState | undefined,
): Promise<BackupContents<R>> {
  if (!outside) return contents;
  const each = <T>(values: T[]) => Promise.all(values.map((value) => outside.exported(value)));
  const linked: Record<string, BackupObject<VersionRecord>> = {};
  for (const [collection, object] of Object.entries(contents.linked ?? {})) {
    linked[collection] = { ...object, versions: await each(object.versions) };
  }
  const companions = Object.fromEntries(
    await Promise.all(
      Object.entries(contents.companions ?? {}).map(async ([path, value]) => [
        path,
        await outside.exported(value),
      ]),
    ),
  );
  return { ...contents, versions: await each(contents.versions), linked, companions };
}

/** The reverse of exportContents, at restore: every value made usable here, all or none. */
export async function importContents<R extends VersionRecord>(
  contents: BackupContents<R>,
  outside: OutsideState | undefined,
  label: string,
): Promise<{ contents: BackupContents<R>; undo: () => Promise<void> }> {
  if (!outside) return { contents, undo: async () => {} };
  const linkedEntries = Object.entries(contents.linked ?? {});
  const companionEntries = Object.entries(contents.companions ?? {});
  const all: unknown[] = [
    ...contents.versions,
    ...linkedEntries.flatMap(([, object]) => object.versions),
    ...companionEntries.map(([, value]) => value),
  ];
  const { values, undo } = await outside.imported(all, label);
  let next = 0;
  const take = <T>(count: number) => values.slice(next, (next += count)) as T[];
  const versions = take<R>(contents.versions.length);
  const linked = Object.fromEntries(
    linkedEntries.map(([collection, object]) => [
      collection,
      { ...object, versions: take<VersionRecord>(object.versions.length) },
    ]),
  );
  const companions = Object.fromEntries(
    companionEntries.map(([path], index) => [path, values[next + index]]),
  );
  return { contents: { ...contents, versions, linked, companions }, undo };
}

/** An object's head and every version, as a backup carries them. */
export async function readWholeObject<V extends VersionRecord>(
  store: ObjectWriter<V>,
  key: string,
  head: ObjectHead,
): Promise<BackupObject<V>> {
  const versions: V[] = [];
  for (const version of await store.listVersions(key, undefined)) {
    const record = await store.version(key, version);
    if (record) versions.push(record);
  }
  return { head, versions };
}

/** Writes an object's versions, then its head (a restore, or the undo of a failed one). */
export async function writeWholeObject<V extends VersionRecord>(
  store: ObjectWriter<V>,
  key: string,
  saved: BackupObject<V>,
) {
  for (const record of saved.versions) await store.putVersion(key, record);
  await store.putHead(key, saved.head);
}
