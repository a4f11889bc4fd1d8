import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { assertOneLineFailure, assertSucceeded, cli, parseJson } from './helpers/cli-process.js';
import { type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

// `coffer secret ...` against a real dev server, cross-checked through @azure/keyvault-secrets:
// az's verbs, options and output shapes, files written 0600, and one clear line for bad input.

interface SecretJson {
  id: string;
  name: string;
  value?: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: { enabled: boolean; created: string; updated: string; expires?: string; recoveryLevel: string };
  recoveryId?: string;
  scheduledPurgeDate?: string;
}

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('coffer secret', () => {
  let server: DevServer;
  let dev: string[];
  let inVault: string[];
  let files: string;

  before(async () => {
    server = await startDevServer();
    dev = ['--dev-data-dir', server.dataDir];
    inVault = ['--vault-name', 'dev', ...dev];
    files = scratchDir('cli-secret-files');
  });
  after(async () => {
    await server?.stop('SIGTERM');
  });

  it("set prints az's shape in JSON, with the value; the SDK reads what the CLI wrote", async () => {
    const secret = parseJson<SecretJson>(
      await cli([
        'secret',
        'set',
        '-n',
        'db-password',
        '--value',
        'hunter2',
        '--content-type',
        'text/plain',
        '--expires',
        '2031-01-02T03:04:05Z',
        '--tags',
        'env=prod',
        'team',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(secret.name, 'db-password');
    assert.equal(secret.value, 'hunter2');
    assert.equal(secret.contentType, 'text/plain');
    assert.deepEqual(secret.tags, { env: 'prod', team: '' });
    assert.equal(secret.attributes.expires, '2031-01-02T03:04:05+00:00', 'dates as az prints them');
    assert.match(secret.attributes.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    assert.match(secret.id, new RegExp(`^${server.facts.vaultUrl}/secrets/db-password/[0-9a-f]{32}$`));
    const read = await server.secrets().getSecret('db-password');
    assert.equal(read.value, 'hunter2');
    assert.equal(read.properties.expiresOn?.toISOString(), '2031-01-02T03:04:05.000Z');
  });

  it('a value shows in json, tsv and yaml and with --query, never in a table', async () => {
    const show = ['secret', 'show', '-n', 'db-password', ...inVault];
    const [table, tsv, yaml, queried, none, listTable] = await Promise.all([
      cli(show),
      cli([...show, '-o', 'tsv']),
      cli([...show, '-o', 'yaml']),
      cli([...show, '--query', 'value', '-o', 'tsv']),
      cli([...show, '-o', 'none']),
      cli(['secret', 'list', ...inVault]),
    ]);
    assertSucceeded(table);
    assert.match(table.stdout, /^Name +db-password$/m);
    assert.match(table.stdout, /^Tags +env=prod, team=$/m);
    assert.ok(!table.stdout.includes('hunter2'), 'no value in the table');
    assertSucceeded(listTable);
    assert.match(listTable.stdout, /^Name +Enabled +ContentType/);
    assert.match(listTable.stdout, /^db-password +true +text\/plain +2031-01-02T03:04:05\+00:00/m);
    assert.ok(!listTable.stdout.includes('hunter2'));
    assertSucceeded(tsv);
    // az's tsv: the object's values in key order, nested objects as empty cells.
    const cells = tsv.stdout.trimEnd().split('\t');
    assert.deepEqual([cells[0], cells[1], cells[3], cells[5]], ['', 'text/plain', 'db-password', 'hunter2']);
    assert.equal((parseYaml(yaml.stdout) as SecretJson).value, 'hunter2');
    assert.equal(queried.stdout, 'hunter2\n', 'the az idiom: --query value -o tsv prints the bare value');
    assert.equal(none.stdout, '');
  });

  it('set --file --encoding base64 keeps binary bytes; download writes them back, mode 0600, never over a file', async () => {
    const bytes = randomBytes(300);
    const source = path.join(files, 'blob.bin');
    writeFileSync(source, bytes);
    const set = parseJson<SecretJson>(
      await cli([
        'secret',
        'set',
        '-n',
        'blob',
        '--file',
        source,
        '--encoding',
        'base64',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(set.tags?.['file-encoding'], 'base64', 'the encoding travels with the secret, as az does');
    assert.equal((await server.secrets().getSecret('blob')).value, bytes.toString('base64'));

    const target = path.join(files, 'blob.out');
    assertSucceeded(await cli(['secret', 'download', '-n', 'blob', '--file', target, ...inVault]));
    assert.deepEqual(readFileSync(target), bytes);
    assert.equal(modeOf(target), 0o600);

    const again = await cli(['secret', 'download', '-n', 'blob', '--file', target, ...inVault]);
    assertOneLineFailure(again, /already exists.*--overwrite/);
    writeFileSync(target, 'older', { mode: 0o644 });
    assertSucceeded(
      await cli([
        'secret',
        'download',
        '-n',
        'blob',
        '--file',
        target,
        '--overwrite',
        '--encoding',
        'base64',
        ...inVault,
      ]),
    );
    assert.deepEqual(readFileSync(target), bytes);
    assert.equal(modeOf(target), 0o600, 'an overwritten file does not keep its looser mode');
  });

  it('set-attributes, list --query and list-versions', async () => {
    assertSucceeded(
      await cli(['secret', 'set', '-n', 'db-password', '--value', 'second', ...inVault, '-o', 'none']),
    );
    const updated = parseJson<SecretJson>(
      await cli([
        'secret',
        'set-attributes',
        '-n',
        'db-password',
        '--enabled',
        'false',
        '--tags',
        'rotated=yes',
        ...inVault,
        '-o',
        'json',
      ]),
    );
    assert.equal(updated.attributes.enabled, false);
    assert.deepEqual(updated.tags, { rotated: 'yes' });
    assert.equal(
      await server
        .secrets()
        .getSecret('db-password')
        .catch((error: { code?: string }) => error.code),
      'Forbidden',
      'the latest version is disabled',
    );

    const [names, versions, first] = await Promise.all([
      cli(['secret', 'list', ...inVault, '--query', '[].name', '-o', 'json']),
      cli(['secret', 'list-versions', '-n', 'db-password', ...inVault, '-o', 'json']),
      cli(['secret', 'list', ...inVault, '--maxresults', '1', '--query', 'length(@)', '-o', 'tsv']),
    ]);
    const listed = parseJson<string[]>(names);
    assert.ok(listed.includes('db-password') && listed.includes('blob'), listed.join(','));
    const all = parseJson<SecretJson[]>(versions);
    assert.equal(all.length, 2);
    assert.deepEqual(all.map((version) => version.attributes.enabled).sort(), [false, true]);
    assert.equal(first.stdout, '1\n');
  });

  it('show --id takes the id a show printed; an id on another host is refused before a token leaves', async () => {
    const set = parseJson<SecretJson>(
      await cli(['secret', 'set', '-n', 'by-id', '--value', 'v1', ...inVault, '-o', 'json']),
    );
    assertSucceeded(await cli(['secret', 'set', '-n', 'by-id', '--value', 'v2', ...inVault, '-o', 'none']));
    const [old, elsewhere] = await Promise.all([
      cli(['secret', 'show', '--id', set.id, ...dev, '--query', 'value', '-o', 'tsv']),
      cli(['secret', 'show', '--id', 'https://attacker.example/secrets/by-id', ...dev]),
    ]);
    assert.equal(old.stdout, 'v1\n', 'the id names the first version');
    assertOneLineFailure(elsewhere, /not on a vault of .*--id/);
  });

  it('delete, list-deleted, show-deleted, recover, then purge', async () => {
    assertSucceeded(
      await cli(['secret', 'set', '-n', 'short-lived', '--value', 'x', ...inVault, '-o', 'none']),
    );
    const deleted = parseJson<SecretJson>(
      await cli(['secret', 'delete', '-n', 'short-lived', ...inVault, '-o', 'json']),
    );
    assert.match(deleted.recoveryId ?? '', /\/deletedsecrets\/short-lived$/);
    assert.match(deleted.scheduledPurgeDate ?? '', /\+00:00$/);
    const [listed, shown] = await Promise.all([
      cli(['secret', 'list-deleted', ...inVault, '--query', '[].name', '-o', 'json']),
      cli(['secret', 'show-deleted', '--id', deleted.recoveryId ?? '', ...dev, '-o', 'json']),
    ]);
    assert.ok(parseJson<string[]>(listed).includes('short-lived'));
    assert.equal(parseJson<SecretJson>(shown).name, 'short-lived');

    const recovered = parseJson<SecretJson>(
      await cli(['secret', 'recover', '-n', 'short-lived', ...inVault, '-o', 'json']),
    );
    assert.equal(recovered.name, 'short-lived');
    assert.equal((await server.secrets().getSecret('short-lived')).value, 'x');

    assertSucceeded(await cli(['secret', 'delete', '-n', 'short-lived', ...inVault, '-o', 'none']));
    const purged = await cli(['secret', 'purge', '-n', 'short-lived', ...inVault]);
    assertSucceeded(purged);
    assert.match(purged.stdout, /Purged secret 'short-lived'/);
    assertOneLineFailure(
      await cli(['secret', 'show-deleted', '-n', 'short-lived', ...inVault]),
      /SecretNotFound.*coffer secret list --vault-name dev/,
    );
  });

  it('backup to a 0600 file, then restore it after a purge', async () => {
    assertSucceeded(
      await cli(['secret', 'set', '-n', 'kept', '--value', 'in the backup', ...inVault, '-o', 'none']),
    );
    const file = path.join(files, 'kept.kvbackup');
    assertSucceeded(await cli(['secret', 'backup', '-n', 'kept', '--file', file, ...inVault, '-o', 'none']));
    assert.equal(modeOf(file), 0o600);
    assert.ok(!readFileSync(file).includes('in the backup'), 'the blob is sealed by the server');
    assertOneLineFailure(
      await cli(['secret', 'backup', '-n', 'kept', '--file', file, ...inVault]),
      /already exists/,
    );

    assertSucceeded(await cli(['secret', 'delete', '-n', 'kept', ...inVault, '-o', 'none']));
    assertSucceeded(await cli(['secret', 'purge', '-n', 'kept', ...inVault, '-o', 'none']));
    const restored = parseJson<SecretJson>(
      await cli(['secret', 'restore', '--file', file, ...inVault, '-o', 'json']),
    );
    assert.equal(restored.name, 'kept');
    assert.equal((await server.secrets().getSecret('kept')).value, 'in the backup');
  });

  it('import-file sets many secrets and reports progress as plain lines off a terminal', async () => {
    const env = path.join(files, 'app.env');
    writeFileSync(env, '# app settings\nDB_HOST=db.internal\nexport API_KEY="a b\\"c"\n\nEMPTY=\n');
    const result = await cli(['secret', 'import-file', '--file', env, ...inVault, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(parseJson<unknown>({ ...result, stderr: '' }), [
      { name: 'DB-HOST' },
      { name: 'API-KEY' },
      { name: 'EMPTY' },
    ]);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 4, result.stderr);
    assert.ok(
      lines.slice(0, 3).every((line) => /^import: [1-3]\/3 [A-Z-]+$/.test(line)),
      result.stderr,
    );
    assert.equal(lines[3], 'Imported 3 of 3 secrets into dev.');
    assert.equal((await server.secrets().getSecret('API-KEY')).value, 'a b"c');

    const quiet = await cli([
      'secret',
      'import-file',
      '--file',
      env,
      '--only-show-errors',
      ...inVault,
      '-o',
      'none',
    ]);
    assertSucceeded(quiet);
  });

  it('bad input fails with one line naming the next step, and changes nothing', async () => {
    const existing = path.join(files, 'exists.txt');
    writeFileSync(existing, 'x');
    const [unknownVault, noValue, both, badQuery, badDate, missingFile, badEncoding] = await Promise.all([
      cli(['secret', 'show', '-n', 'db-password', '--vault-name', 'no-such-vault', ...dev]),
      cli(['secret', 'set', '-n', 'nothing', ...inVault]),
      cli(['secret', 'set', '-n', 'nothing', '--value', 'a', '--file', existing, ...inVault]),
      cli(['secret', 'set', '-n', 'nothing', '--value', 'a', '--query', '[?', ...inVault]),
      cli(['secret', 'set', '-n', 'nothing', '--value', 'a', '--expires', 'tomorrow', ...inVault]),
      cli(['secret', 'set', '-n', 'nothing', '--file', path.join(files, 'absent.txt'), ...inVault]),
      cli(['secret', 'set', '-n', 'nothing', '--value', 'a', '--encoding', 'base64', ...inVault]),
    ]);
    assertOneLineFailure(unknownVault, /VaultNotFound.*coffer vault list/);
    assertOneLineFailure(noValue, /no value given\. Pass --value VALUE, or --file PATH/);
    assertOneLineFailure(both, /either --value or --file/);
    assertOneLineFailure(badQuery, /--query '\[\?' is not a JMESPath expression/);
    assertOneLineFailure(badDate, /--expires.*ISO 8601/);
    assertOneLineFailure(missingFile, /cannot read .*absent\.txt \(no such file or folder\)\. Check --file/);
    assertOneLineFailure(badEncoding, /--encoding applies to --file only/);
    await assert.rejects(
      server.secrets().getSecret('nothing'),
      (error: { statusCode?: number }) => error.statusCode === 404,
    );
    assert.ok(!existsSync(path.join(files, 'absent.txt')));
  });
});
