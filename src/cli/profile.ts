import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.js';
import { writePrivateFile } from './files.js';

/**
 * The profile `coffer login` saves so later commands need no connection flags: the server, the
 * tenant, and either a service principal's client id and secret or a user's name and a cached
 * token (a user's password is never stored). One JSON file, mode 0600, in a 0700 folder under
 * the user's configuration directory; `coffer logout` deletes it.
 */

export interface Profile {
  url: string;
  authorityHost: string;
  baseDomain: string;
  tenantId: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  caFile?: string;
  /** A user's access token and when it expires (ISO 8601). */
  token?: { accessToken: string; expiresOn: string };
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `$COFFER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/coffer`, else `$HOME/.config/coffer`
 * (`%APPDATA%\coffer` on Windows); undefined when the environment names no home at all.
 */
export function configDirectory(env: Env = process.env): string | undefined {
  if (env['COFFER_CONFIG_DIR']) return env['COFFER_CONFIG_DIR'];
  if (env['XDG_CONFIG_HOME']) return join(env['XDG_CONFIG_HOME'], 'coffer');
  if (env['HOME']) return join(env['HOME'], '.config', 'coffer');
  if (env['APPDATA']) return join(env['APPDATA'], 'coffer');
  return undefined;
}

export function profilePath(env: Env = process.env): string | undefined {
  const directory = configDirectory(env);
  return directory === undefined ? undefined : join(directory, 'profile.json');
}

export function readProfile(env: Env = process.env): (Profile & { path: string }) | undefined {
  const path = profilePath(env);
  if (path === undefined || !existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new CliError(`${path} is not a valid profile. Run \`coffer logout\`, then \`coffer login\` again.`);
  }
  const profile = parsed as Partial<Profile>;
  if (typeof profile.url !== 'string' || typeof profile.tenantId !== 'string') {
    throw new CliError(
      `${path} names no server or tenant. Run \`coffer logout\`, then \`coffer login\` again.`,
    );
  }
  return { ...(profile as Profile), path };
}

export function saveProfile(profile: Profile, env: Env = process.env): string {
  const directory = configDirectory(env);
  if (directory === undefined)
    throw new CliError('no place for the profile: set HOME, XDG_CONFIG_HOME or COFFER_CONFIG_DIR.');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, 'profile.json');
  writePrivateFile(path, JSON.stringify(profile, null, 2) + '\n', {
    overwrite: true,
    option: 'COFFER_CONFIG_DIR',
  });
  return path;
}

/** Returns whether there was a profile to remove. */
export function removeProfile(env: Env = process.env): boolean {
  const path = profilePath(env);
  if (path === undefined || !existsSync(path)) return false;
  rmSync(path, { force: true });
  return true;
}
