import { randomBytes } from 'node:crypto';
import { sendJson } from '../cli/http-client.js';
import { readClientCertificate } from './client-certificate.js';
import { startIdentityEndpoint } from './identity-endpoint.js';
import { AgentError, createTokenSource } from './token-source.js';

export interface AgentOptions {
  /** Coffer's URL, where its token endpoint lives (`https://localhost:8443`). */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** PEM text: the principal's certificate and its private key. */
  certificatePem: string;
  /** PEM text of a CA to trust for Coffer's certificate, besides the bundled roots. */
  caPem?: string;
  host: string;
  port: number;
  /** The X-IDENTITY-HEADER secret; made at random when not given. */
  header?: string;
  /** One line per failure the workload got, for the agent's own log (no token, no key). */
  log: (line: string) => void;
}

/** Shorter shared secrets are refused: the header is all that stands between a local process and a token. */
export const MIN_HEADER_LENGTH = 16;

/**
 * `coffer agent`: a sidecar beside a workload, as the identity endpoint Azure runs beside each app.
 * It holds one service principal's certificate credential, and serves tokens for that principal on
 * loopback, so the workload's configuration holds no secret: only IDENTITY_ENDPOINT and the
 * per-agent IDENTITY_HEADER.
 */
export async function startAgent(options: AgentOptions) {
  const header = options.header ?? randomBytes(32).toString('base64url');
  if (header.length < MIN_HEADER_LENGTH) {
    throw new AgentError(
      400,
      'invalid_header',
      `IDENTITY_HEADER must be at least ${MIN_HEADER_LENGTH} characters`,
    );
  }
  const tokens = createTokenSource({
    authorityHost: options.authorityHost,
    tenantId: options.tenantId,
    clientId: options.clientId,
    certificate: readClientCertificate(options.certificatePem, Date.now()),
    send: (request) => sendJson(options.caPem === undefined ? request : { ...request, caPem: options.caPem }),
    nowMs: Date.now,
  });
  const endpoint = await startIdentityEndpoint({
    host: options.host,
    port: options.port,
    header,
    clientId: options.clientId,
    tokens: {
      token: (resource) =>
        tokens.token(resource).catch((error: unknown) => {
          if (error instanceof AgentError)
            options.log(`token for ${resource.slice(0, 200)} refused: ${error.message}`);
          throw error;
        }),
    },
    onInternalError: (error) => options.log(`internal error: ${error.name}`),
  });
  return { endpoint: endpoint.url, header, close: endpoint.close };
}
