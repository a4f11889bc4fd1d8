import { BadParameter } from '../errors/index.js';

/**
 * Role assignment scopes form a tree: `/` (the installation) > `/vaults/{vault}` >
 * `/vaults/{vault}/{kind}` (every object of a kind, Managed HSM's `/keys`) >
 * `/vaults/{vault}/{kind}/{name}` (one object). Stored lower case, as vault and object names
 * are case-insensitive.
 */
const SCOPE_PATTERN =
  /^\/(?:vaults\/([a-z](?:[a-z0-9-]{1,22})[a-z0-9])(?:\/(secrets|keys|certificates)(?:\/([0-9a-z-]{1,127}))?)?)?$/;

export const OBJECT_KINDS = ['secrets', 'keys', 'certificates'] as const;

export interface ParsedScope {
  scope: string;
  vault?: string;
  kind?: string;
  name?: string;
}

export function parseScope(text: unknown): ParsedScope {
  const scope =
    typeof text === 'string'
      ? text
          .trim()
          .toLowerCase()
          .replace(/(.)\/+$/, '$1')
      : '';
  const match = SCOPE_PATTERN.exec(scope);
  if (!match) {
    throw new BadParameter(
      `'${String(text).slice(0, 200)}' is not a role assignment scope. Use '/', '/vaults/{vault}' or '/vaults/{vault}/{secrets|keys|certificates}/{name}'.`,
      'InvalidRoleAssignmentScope',
    );
  }
  return { scope, vault: match[1], kind: match[2], name: match[3] };
}

/** The authorization scope of a whole vault (its name as stored: lower case). */
export function scopeOfVault(vault: { name: string }): string {
  return `/vaults/${vault.name}`;
}

/**
 * Managed HSM's scopes are relative to the vault the request addresses (`/`, `/keys`,
 * `/keys/{name}`); Coffer's are absolute. These map one onto the other.
 */
export function vaultRelativeToScope(vault: string, relative: string): string {
  const trimmed = relative.replace(/^\/+|\/+$/g, '');
  return parseScope(trimmed === '' ? `/vaults/${vault}` : `/vaults/${vault}/${trimmed}`).scope;
}

export function scopeToVaultRelative(vault: string, scope: string): string | undefined {
  const base = `/vaults/${vault.toLowerCase()}`;
  if (scope === base) return '/';
  return scope.startsWith(`${base}/`) ? scope.slice(base.length) : undefined;
}
