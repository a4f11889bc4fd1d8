/**
 * Azure's vault names: 3-24 letters, digits and hyphens, starting with a letter, ending with a
 * letter or digit, no consecutive hyphens. A name that passes is also one DNS label, so it can
 * stand in a vault's host name (`{vault}.vault.localhost`).
 */
export const VAULT_NAME_PATTERN = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

export const VAULT_NAME_RULE =
  'use 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, with no consecutive hyphens';
