import { CliError, sentence } from './errors.js';
import type { HttpResponse, TransportError } from './http-client.js';

/** Turns what the server (or the network) said into the one line people read. */

const START_HINT = 'Is the server running? Start it with `coffer server --dev`.';
const CA_HINT =
  'Pass its CA with --ca-file or COFFER_CA_FILE (a dev server keeps it in DIR/tls/ca.pem), or use --dev-data-dir DIR.';

const TRANSPORT_HINTS: Record<string, (url: string) => string> = {
  ECONNREFUSED: (url) => `cannot reach ${url} (connection refused). ${START_HINT}`,
  ECONNRESET: (url) => `${url} closed the connection. Check that --url points at a Coffer server (HTTPS).`,
  ENOTFOUND: (url) => `cannot resolve the host of ${url}. Check --url or COFFER_URL.`,
  EAI_AGAIN: (url) => `cannot resolve the host of ${url} right now. Check --url and your DNS.`,
  ETIMEDOUT: (url) => `${url} did not answer in time. ${START_HINT}`,
  EHOSTUNREACH: (url) => `cannot reach ${url} (host unreachable). Check --url or COFFER_URL.`,
  EPROTO: (url) => `TLS handshake with ${url} failed. Check that --url points at the server's HTTPS port.`,
  ETOOBIG: (url) => `${url} sent an answer too large to be a Coffer answer. Check --url.`,
  ERR_TLS_CERT_ALTNAME_INVALID: (url) =>
    `the certificate of ${url} is not valid for that host name. Use the host the certificate names (e.g. localhost).`,
  CERT_HAS_EXPIRED: (url) => `the certificate of ${url} has expired. Renew the server certificate.`,
};

const UNTRUSTED_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

export function transportFailure(error: TransportError): CliError {
  if (UNTRUSTED_CERT_CODES.has(error.code)) {
    return new CliError(`cannot verify the TLS certificate of ${error.url} (${error.code}). ${CA_HINT}`);
  }
  const hint = TRANSPORT_HINTS[error.code];
  if (hint !== undefined) return new CliError(hint(error.url));
  return new CliError(
    `cannot talk to ${error.url} (${error.code}: ${sentence(error.message)}) ${START_HINT}`,
  );
}

const CODE_HINTS: Record<string, string> = {
  VaultNotFound: 'List the vaults with `coffer vault list`.',
  PrincipalNotFound: 'List the service principals with `coffer sp list`.',
  VaultAlreadyExists: 'Choose another name, or see it with `coffer vault show NAME`.',
};

const STATUS_HINTS: Record<number, string> = {
  401: 'Check the client credentials (--tenant-id, --client-id, --client-secret or COFFER_*), or run `coffer login` again.',
  403: 'This needs an administrator: use the credentials `coffer operator init` or the dev server printed.',
  503: 'The server may be sealed: check `coffer operator status`, then unseal it with `coffer operator unseal`.',
};

/** Next steps for error codes (or HTTP statuses) of one API, over the general ones. */
export type ErrorHints = Readonly<Record<string, string>>;

/** An error answer of the administration or data-plane API: `{"error": {"code", "message"}}`. */
export function apiFailure(response: HttpResponse, url: string, hints: ErrorHints = {}): CliError {
  const error = field(response.json, 'error');
  const code = stringField(error, 'code');
  const message = stringField(error, 'message');
  if (code === undefined && message === undefined) return unexpectedAnswer(response, url);
  // Key Vault says why access was refused in innererror (KeyDisabled, ForbiddenByRbac, ...).
  const inner = stringField(field(error, 'innererror'), 'code');
  const hint =
    (inner !== undefined ? hints[inner] : undefined) ??
    (code !== undefined ? (hints[code] ?? CODE_HINTS[code]) : undefined) ??
    hints[String(response.status)] ??
    STATUS_HINTS[response.status] ??
    '';
  const text = `${code ?? `HTTP ${response.status}`}: ${sentence(message ?? 'no message')}`;
  return new CliError(`${text} ${hint}`);
}

/** An error answer of the token endpoint: OAuth2's `{error, error_description}`. */
export function tokenFailure(response: HttpResponse, url: string): CliError {
  const code = stringField(response.json, 'error');
  if (code === undefined) {
    if (response.status === 503) return new CliError(`cannot get a token (HTTP 503). ${STATUS_HINTS[503]}`);
    return unexpectedAnswer(response, url);
  }
  // Entra-style descriptions carry trace lines after the first; the first says what is wrong.
  const description = stringField(response.json, 'error_description')?.split(/\r?\n/)[0] ?? 'no description';
  const hint =
    response.status === 503
      ? STATUS_HINTS[503]
      : code === 'invalid_scope'
        ? 'Check --base-domain or COFFER_BASE_DOMAIN: it must be the base domain the server uses.'
        : STATUS_HINTS[401];
  return new CliError(`cannot get a token: ${code}: ${sentence(description)} ${hint}`);
}

function unexpectedAnswer(response: HttpResponse, url: string): CliError {
  const what = response.notJson ? 'not JSON' : 'no error details';
  if (response.status === 503) return new CliError(`HTTP 503 from ${url} (${what}). ${STATUS_HINTS[503]}`);
  if (response.status >= 500) return new CliError(`HTTP ${response.status} from ${url}. See the server log.`);
  return new CliError(
    `unexpected answer from ${url} (HTTP ${response.status}, ${what}). Check that --url points at a Coffer server.`,
  );
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function stringField(value: unknown, name: string): string | undefined {
  const found = field(value, name);
  return typeof found === 'string' && found !== '' ? found : undefined;
}
