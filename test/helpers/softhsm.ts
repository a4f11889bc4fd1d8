import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cofferJson } from './coffer-cli.js';
import { type DevServer, scratchDir, startDevServer } from './server-process.js';

/** Debian's SoftHSM2 module (package softhsm2; .ci/run installs it). */
export const SOFTHSM_LIBRARY =
  ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((file) =>
    existsSync(file),
  ) ?? '/usr/lib/softhsm/libsofthsm2.so';

/** A throwaway SoftHSM2 token: its own config file and token directory under the test's scratch dir. */
export interface TestToken {
  dir: string;
  tokenDir: string;
  /** SOFTHSM2_CONF for every process that should see this token. */
  conf: string;
  library: string;
  label: string;
  pin: string;
  soPin: string;
  /** What a coffer process needs in its environment to use the token. */
  env: Record<string, string>;
}

export function createTestToken(options: { label?: string; tokenDir?: string } = {}): TestToken {
  if (!existsSync(SOFTHSM_LIBRARY)) {
    throw new Error('SoftHSM2 is not installed: apt-get install softhsm2 opensc (.ci/run installs them).');
  }
  const dir = scratchDir('hsm');
  const tokenDir = options.tokenDir ?? path.join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true });
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const label = options.label ?? 'coffer-test';
  const token: TestToken = {
    dir,
    tokenDir,
    conf,
    library: SOFTHSM_LIBRARY,
    label,
    pin: '4321-user',
    soPin: '8765-officer',
    env: {},
  };
  token.env = {
    SOFTHSM2_CONF: conf,
    COFFER_PKCS11_LIBRARY: SOFTHSM_LIBRARY,
    COFFER_PKCS11_TOKEN_LABEL: label,
    COFFER_PKCS11_PIN: token.pin,
  };
  softhsmUtil(token, [
    '--init-token',
    '--free',
    '--label',
    label,
    '--so-pin',
    token.soPin,
    '--pin',
    token.pin,
  ]);
  return token;
}

function softhsmUtil(token: TestToken, args: string[]): string {
  return execFileSync('softhsm2-util', args, {
    env: { ...process.env, SOFTHSM2_CONF: token.conf },
    encoding: 'utf8',
  });
}

/** `pkcs11-tool --list-objects` (as the token's user by default): OpenSC's independent view of what the token holds. */
export function listObjects(token: TestToken, options: { login?: boolean } = {}): string {
  const login = options.login === false ? [] : ['--login', '--pin', token.pin];
  return execFileSync(
    'pkcs11-tool',
    ['--module', token.library, '--token-label', token.label, ...login, '--list-objects'],
    {
      env: { ...process.env, SOFTHSM2_CONF: token.conf },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/** The blocks of `pkcs11-tool --list-objects` output, one per object, each with its lines. */
export function objectBlocks(listing: string): string[] {
  return listing
    .split(/\n(?=\S)/)
    .map((block) => block.trim())
    .filter((block) => /^(Private|Public|Secret) Key Object/.test(block));
}

/** A dev server whose -HSM keys live in a fresh SoftHSM2 token, and a premium vault on it. */
export interface HsmDevServer {
  server: DevServer;
  token: TestToken;
  /** The premium vault's URL. */
  vaultUrl: string;
}

export async function startHsmDevServer(
  options: { vault?: string; env?: Record<string, string>; token?: TestToken } = {},
): Promise<HsmDevServer> {
  const token = options.token ?? createTestToken();
  const server = await startDevServer({ env: { ...token.env, ...options.env } });
  const vault = options.vault ?? 'hsm';
  const created = await cofferJson<{ vaultUrl: string; sku: string }>(server.dataDir, [
    'vault',
    'create',
    vault,
    '--sku',
    'premium',
  ]);
  if (created.sku !== 'premium') throw new Error(`vault ${vault} was created as ${created.sku}`);
  return { server, token, vaultUrl: created.vaultUrl };
}
