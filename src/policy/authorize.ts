import type { AuthenticatedPrincipal } from '../identity/types.js';
import type { Action } from './actions.js';

export interface Decision {
  allowed: boolean;
  reason: string;
}

/**
 * The one place where access is decided. Every route asks here; nothing else says yes.
 * Scope is a path: `/`, `/vaults/{vault}` or `/vaults/{vault}/secrets/{name}`.
 *
 * Until the role model lands (its own issue), administrators may do everything and every
 * other principal nothing: deny by default.
 */
export function authorize(principal: AuthenticatedPrincipal, action: Action, scope: string): Decision {
  if (principal.administrator) return { allowed: true, reason: 'administrator' };
  return {
    allowed: false,
    reason: `The principal ${principal.objectId} has no permission to perform '${action}' on '${scope}'.`,
  };
}
