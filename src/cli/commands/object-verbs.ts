import type { Command } from 'commander';
import { azShape as plainShape } from '../az-shape.js';
import { readInputFile, writePrivateFile } from '../files.js';
import { outputFormat } from '../options.js';
import { asRecord, printDone, printResult } from '../output.js';
import {
  addObjectOptions,
  type Collection,
  dataLeaf,
  objectPath,
  objectTarget,
  parseCount,
  vaultTarget,
  printShaped,
} from './data-plane.js';
import { renderDeletedList, renderObjectList } from './object-tables.js';

/**
 * The verbs secrets, keys and certificates share, as `az keyvault secret|key|certificate` spell
 * them: show, list, list-versions, delete, list-deleted, show-deleted, recover, purge, backup and
 * restore. One implementation for the three kinds, since Key Vault's lifecycle is the same.
 */

export interface ObjectKind {
  noun: 'secret' | 'key' | 'certificate';
  collection: Collection;
  deleted: string;
  /** The object in az's shape (a certificate's policy has az's names too). */
  shape?: (value: unknown) => Record<string, unknown>;
  /** The table `show` prints (never a secret's value). */
  renderShow: (value: Record<string, unknown>) => string;
  /** az's flag for listing managed (certificate-backed) objects, or the certificate's pending ones. */
  listFlag?: { option: string; description: string; query?: string };
}

export function registerObjectVerbs(group: Command, kind: ObjectKind): void {
  const { noun, collection, deleted } = kind;
  const azShape = kind.shape ?? plainShape;
  const one = [collection];

  addObjectOptions(
    dataLeaf(
      group,
      'show',
      `show a ${noun}${noun === 'secret' ? ' (its value: --query value)' : ''}`,
      async ({ command }) => {
        const target = objectTarget(command, one);
        printShaped(
          command,
          await target.client.call('GET', objectPath(collection, target)),
          azShape,
          kind.renderShow,
        );
      },
    ),
    noun,
  );

  const list = dataLeaf(group, 'list', `list the ${noun}s of a vault`, async ({ command }) => {
    const { maxresults, ...flags } = command.opts<{
      maxresults?: number;
      includeManaged?: boolean;
      includePending?: boolean;
    }>();
    const client = vaultTarget(command);
    const query: Record<string, string> =
      kind.listFlag?.query !== undefined && flags.includePending ? { [kind.listFlag.query]: 'true' } : {};
    let items = (await client.list(`/${collection}`, maxresults, query)).map(azShape);
    if (kind.listFlag?.query === undefined && !flags.includeManaged)
      items = items.filter((item) => item['managed'] !== true);
    printResult(outputFormat(command), items, () => renderObjectList(items));
  })
    .option('--id <url>', 'the vault URL instead of --vault-name')
    .option('--maxresults <n>', 'list at most N', parseCount);
  if (kind.listFlag !== undefined) list.option(kind.listFlag.option, kind.listFlag.description);

  addObjectOptions(
    dataLeaf(group, 'list-versions', `list the versions of a ${noun}`, async ({ command }) => {
      const target = objectTarget(command, one);
      const { maxresults } = command.opts<{ maxresults?: number }>();
      const items = (await target.client.list(`${objectPath(collection, target)}/versions`, maxresults)).map(
        azShape,
      );
      printResult(outputFormat(command), items, () => renderObjectList(items, true));
    }).option('--maxresults <n>', 'list at most N', parseCount),
    noun,
    false,
  );

  addObjectOptions(
    dataLeaf(
      group,
      'delete',
      `delete a ${noun} (soft delete: recover or purge it later)`,
      async ({ command }) => {
        const target = objectTarget(command, one);
        const shaped = azShape(await target.client.call('DELETE', objectPath(collection, target)));
        printResult(
          outputFormat(command),
          shaped,
          () =>
            `Deleted ${noun} '${target.name}'. Recover it with \`coffer ${noun} recover --vault-name ${target.client.vaultName} --name ${target.name}\` until ${String(shaped['scheduledPurgeDate'] ?? 'it is purged')}.`,
        );
      },
    ),
    noun,
    false,
  );

  dataLeaf(group, 'list-deleted', `list the deleted ${noun}s of a vault`, async ({ command }) => {
    const { maxresults } = command.opts<{ maxresults?: number }>();
    const items = (await vaultTarget(command).list(`/${deleted}`, maxresults)).map(azShape);
    printResult(outputFormat(command), items, () => renderDeletedList(items));
  })
    .option('--id <url>', 'the vault URL instead of --vault-name')
    .option('--maxresults <n>', 'list at most N', parseCount);

  const deletedOne = [deleted, collection];
  addObjectOptions(
    dataLeaf(group, 'show-deleted', `show a deleted ${noun}`, async ({ command }) => {
      const target = objectTarget(command, deletedOne);
      const shaped = azShape(await target.client.call('GET', objectPath(deleted, { name: target.name })));
      printResult(outputFormat(command), shaped, () => renderDeletedList([shaped]));
    }),
    noun,
    false,
  );

  addObjectOptions(
    dataLeaf(group, 'recover', `recover a deleted ${noun}`, async ({ command }) => {
      const target = objectTarget(command, deletedOne);
      const answer = await target.client.call(
        'POST',
        `${objectPath(deleted, { name: target.name })}/recover`,
      );
      printShaped(command, answer, azShape, kind.renderShow);
    }),
    noun,
    false,
  );

  addObjectOptions(
    dataLeaf(group, 'purge', `delete a deleted ${noun} for good (cannot be undone)`, async ({ command }) => {
      const target = objectTarget(command, deletedOne);
      await target.client.call('DELETE', objectPath(deleted, { name: target.name }));
      printDone(outputFormat(command), `Purged ${noun} '${target.name}'.`);
    }),
    noun,
    false,
  );

  addObjectOptions(
    dataLeaf(
      group,
      'backup',
      `back up every version of a ${noun} to a file (mode 0600)`,
      async ({ command }) => {
        const { file, overwrite } = command.opts<{ file: string; overwrite?: boolean }>();
        const target = objectTarget(command, one);
        const blob = await backupBlob(target.client, collection, target.name);
        writePrivateFile(file, blob, { overwrite: overwrite === true });
        printDone(outputFormat(command), `Backed up ${noun} '${target.name}' to ${file}.`);
      },
    )
      .requiredOption('-f, --file <path>', 'where to write the backup')
      .option('--overwrite', 'replace the file if it exists'),
    noun,
    false,
  );

  dataLeaf(group, 'restore', `restore a ${noun} from a backup file`, async ({ command }) => {
    const { file } = command.opts<{ file: string }>();
    const client = vaultTarget(command);
    printShaped(
      command,
      await restoreBlob(client, collection, readInputFile(file, '--file')),
      azShape,
      kind.renderShow,
    );
  })
    .option('--id <url>', 'the vault URL instead of --vault-name')
    .requiredOption('-f, --file <path>', 'a backup written by `backup`');
}

/** The backup blob of one object, as bytes (the wire carries it base64url-encoded). */
export async function backupBlob(
  client: { call: (m: 'POST', p: string) => Promise<unknown> },
  collection: Collection,
  name: string,
): Promise<Buffer> {
  const answer = asRecord(await client.call('POST', `${objectPath(collection, { name })}/backup`));
  return Buffer.from(String(answer['value'] ?? ''), 'base64url');
}

export function restoreBlob(
  client: { call: (m: 'POST', p: string, body: unknown) => Promise<unknown> },
  collection: Collection,
  blob: Buffer,
): Promise<unknown> {
  return client.call('POST', `/${collection}/restore`, { value: blob.toString('base64url') });
}
