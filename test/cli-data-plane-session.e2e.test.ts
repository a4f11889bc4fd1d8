import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { assertOneLineFailure, assertSucceeded, cli, parseJson } from './helpers/cli-process.js';
import { type DevServer, scratchDir, startDevServer } from './helpers/server-process.js';

// What every command shares: az's output formats and --query (on the admin commands too),
// `coffer login`/`logout` profiles, shell completion, and bulk commands with progress.

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('coffer CLI sessions, output and bulk commands', () => {
  let server: DevServer;
  let dev: string[];

  before(async () => {
    server = await startDevServer();
    dev = ['--dev-data-dir', server.dataDir];
  });
  after(async () => {
    await server?.stop('SIGTERM');
  });

  it('every output format and --query work on admin commands too', async () => {
    const list = ['vault', 'list', ...dev];
    const [yaml, tsv, url, table, jsonc, none] = await Promise.all([
      cli([...list, '-o', 'yaml']),
      cli([...list, '-o', 'tsv', '--query', '[].name']),
      cli([...list, '--query', "[?name=='dev'].vaultUrl | [0]", '-o', 'tsv']),
      cli([
        ...list,
        '-o',
        'table',
        '--query',
        '[].{Name:name, Rbac:enableRbacAuthorization, Policies:accessPolicies}',
      ]),
      cli([...list, '-o', 'jsonc']),
      cli([...list, '-o', 'none']),
    ]);
    const vaults = parseYaml(yaml.stdout) as { name: string }[];
    assert.ok(vaults.some((vault) => vault.name === 'dev'));
    assert.equal(tsv.stdout, 'dev\n');
    assert.equal(url.stdout, `${server.facts.vaultUrl}\n`);
    // az's table from a query: scalar columns only, in the query's order.
    assert.deepEqual(table.stdout.split('\n').slice(0, 3), ['Name  Rbac', '----  ----', 'dev   true']);
    assert.deepEqual(JSON.parse(jsonc.stdout), parseYaml(yaml.stdout), 'jsonc off a terminal is plain JSON');
    assertSucceeded(none);
    assert.equal(none.stdout, '');
  });

  it('login saves a 0600 profile; later commands need no flags; logout deletes it', async () => {
    const config = path.join(scratchDir('cli-config'), 'coffer');
    const env = { COFFER_CONFIG_DIR: config };
    const elsewhere = scratchDir('cli-no-dev');
    const login = parseJson<{ url: string; profile: string; user: string }>(
      await cli(['login', ...dev, '-o', 'json'], { env, cwd: elsewhere }),
    );
    assert.equal(login.url, server.facts.url);
    assert.equal(login.user, server.facts.clientId);
    const file = path.join(config, 'profile.json');
    assert.equal(login.profile, file);
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(config), 0o700);

    const [names, otherServer] = await Promise.all([
      cli(['secret', 'list', '--vault-name', 'dev', '--query', 'length(@)', '-o', 'tsv'], {
        env,
        cwd: elsewhere,
      }),
      cli(['vault', 'list', '--url', 'https://localhost:1'], { env, cwd: elsewhere }),
    ]);
    assertSucceeded(names);
    // The profile's secret only ever goes to the profile's server.
    assertOneLineFailure(otherServer, /no credentials to log in to https:\/\/localhost:1 .*coffer login/);

    const logout = await cli(['logout'], { env, cwd: elsewhere });
    assertSucceeded(logout);
    assert.match(logout.stdout, /Logged out/);
    assert.deepEqual(readdirSync(config), []);
    assertOneLineFailure(
      await cli(['vault', 'list'], { env, cwd: elsewhere }),
      /no credentials.*coffer login/,
    );
  });

  it('a user login caches a token, never the password; an expired sign-in says to log in again', async () => {
    const password = `pw-${Date.now()}-long enough`;
    assertSucceeded(
      await cli(
        [
          'user',
          'create',
          '--name',
          'cli-user@example.test',
          '--admin',
          '--password-stdin',
          ...dev,
          '-o',
          'none',
        ],
        {
          input: `${password}\n`,
        },
      ),
    );
    const config = scratchDir('cli-user-config');
    const env = { COFFER_CONFIG_DIR: config };
    const cwd = scratchDir('cli-user-cwd');
    const { url, tenantId, caFile } = server.facts;
    const asUser = [
      '--url',
      url,
      '--tenant-id',
      tenantId,
      '--ca-file',
      caFile,
      '--username',
      'cli-user@example.test',
    ];
    const login = parseJson<{ expiresOn: string }>(
      await cli(['login', ...asUser, '-o', 'json'], { env: { ...env, COFFER_PASSWORD: password }, cwd }),
    );
    assert.ok(Date.parse(login.expiresOn) > Date.now());
    const saved = readFileSync(path.join(config, 'profile.json'), 'utf8');
    assert.ok(!saved.includes(password), 'the password is not saved');
    assert.equal(modeOf(path.join(config, 'profile.json')), 0o600);

    assertSucceeded(await cli(['vault', 'list', '-o', 'none'], { env, cwd }));

    const profile = JSON.parse(saved) as { token: { expiresOn: string } };
    profile.token.expiresOn = '2020-01-01T00:00:00.000Z';
    writeFileSync(path.join(config, 'profile.json'), JSON.stringify(profile), { mode: 0o600 });
    assertOneLineFailure(
      await cli(['vault', 'list'], { env, cwd }),
      /sign-in of cli-user@example\.test .* expired at 2020-01-01.*coffer login --username cli-user@example\.test/,
    );
  });

  it('completion scripts complete commands, options and choices in bash and zsh', async () => {
    const scripts = scratchDir('cli-completion');
    for (const shell of ['bash', 'zsh']) {
      const result = await cli(['completion', shell]);
      assertSucceeded(result);
      writeFileSync(path.join(scripts, `coffer.${shell}`), result.stdout);
    }
    const bash = execFileSync(
      'bash',
      [
        '-c',
        `source ${scripts}/coffer.bash
         COMP_WORDS=(coffer secret s); COMP_CWORD=2; _coffer; echo "\${COMPREPLY[*]}"
         COMP_WORDS=(coffer key create --kty ""); COMP_CWORD=4; _coffer; echo "\${COMPREPLY[*]}"
         COMP_WORDS=(coffer certificate pending m); COMP_CWORD=3; _coffer; echo "\${COMPREPLY[*]}"`,
      ],
      { encoding: 'utf8' },
    );
    assert.deepEqual(bash.trimEnd().split('\n'), [
      'set show show-deleted set-attributes',
      'RSA RSA-HSM EC EC-HSM oct oct-HSM',
      'merge',
    ]);
    const zsh = spawnSync(
      'zsh',
      [
        '-fc',
        `autoload -U compinit && compinit -u -D && source ${scripts}/coffer.zsh && __coffer_candidates secret download --encoding`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(zsh.error, undefined, 'zsh is installed (.ci/run installs it)');
    assert.equal(zsh.stderr, '');
    assert.deepEqual(zsh.stdout.trim().split('\n'), [
      'ascii',
      'base64',
      'hex',
      'utf-8',
      'utf-16be',
      'utf-16le',
    ]);
  });

  it('vault backup and restore move every object, 0600 files, progress lines off a terminal', async () => {
    const inDev = ['--vault-name', 'dev', ...dev];
    await Promise.all([
      cli(['secret', 'set', '-n', 'moved-secret', '--value', 'travels', ...inDev, '-o', 'none']),
      cli(['key', 'create', '-n', 'moved-key', ...inDev, '-o', 'none']),
    ]);
    assertSucceeded(await cli(['vault', 'create', 'cli-restore', ...dev, '-o', 'none']));
    const folder = path.join(scratchDir('cli-vault-backup'), 'dev');
    const backup = await cli(['vault', 'backup', 'dev', '--directory', folder, ...dev, '-o', 'json']);
    assert.equal(backup.code, 0, backup.stderr);
    const saved = JSON.parse(backup.stdout) as { type: string; name: string }[];
    assert.ok(saved.some((entry) => entry.type === 'secrets' && entry.name === 'moved-secret'));
    assert.ok(saved.some((entry) => entry.type === 'keys' && entry.name === 'moved-key'));
    const progress = backup.stderr.trimEnd().split('\n');
    assert.equal(progress.length, saved.length + 1);
    assert.match(
      progress.at(-1) ?? '',
      new RegExp(`^Backed up ${saved.length} of ${saved.length} objects of dev to `),
    );
    assert.equal(modeOf(folder), 0o700);
    assert.equal(modeOf(path.join(folder, 'secrets', 'moved-secret.kvbackup')), 0o600);

    const restore = await cli([
      'vault',
      'restore',
      'cli-restore',
      '--directory',
      folder,
      '--only-show-errors',
      ...dev,
      '-o',
      'json',
    ]);
    assertSucceeded(restore);
    const restored = new URL(server.facts.vaultUrl);
    restored.hostname = `cli-restore.${server.facts.baseDomain}`;
    assert.equal((await server.secrets(restored.origin).getSecret('moved-secret')).value, 'travels');

    const again = await cli([
      'vault',
      'restore',
      'cli-restore',
      '--directory',
      folder,
      '--only-show-errors',
      ...dev,
    ]);
    assertOneLineFailure(
      again,
      new RegExp(`^coffer: ${saved.length} of ${saved.length} could not be restored .*Conflict`),
    );
  });
});
