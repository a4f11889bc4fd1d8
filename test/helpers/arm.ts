import assert from 'node:assert/strict';
import type { TokenCredential } from '@azure/identity';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { bearerRequest, fetchToken, type RawResponse } from './http.js';
import { credentialFor, type DevServer } from './server-process.js';

/** A service principal made through the admin API, with its secret. */
export interface TestPrincipal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

/** What Resource Manager clients call: the server's URL as the endpoint, scope `{url}/.default`. */
export function armScope(server: DevServer): string {
  return `${server.facts.url}/.default`;
}

/** One request an SDK sent, as a recording pipeline policy saw it. */
export interface SentRequest {
  method: string;
  path: string;
}

/** `@azure/arm-keyvault` pointed at Coffer; `sent` records every request its pipeline sends. */
export function armClient(server: DevServer, credential: TokenCredential = server.credential) {
  const sent: SentRequest[] = [];
  const client = new KeyVaultManagementClient(credential, server.facts.subscriptionId, {
    endpoint: server.facts.url,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [
      {
        position: 'perCall',
        policy: {
          name: 'record',
          sendRequest: (request, next) => {
            sent.push({ method: request.method, path: new URL(request.url).pathname });
            return next(request);
          },
        },
      },
    ],
  });
  return { client, sent };
}

/** Raw ARM calls with one principal's ARM token, for what the SDK does not send. */
export async function armCaller(server: DevServer, clientId: string, clientSecret: string) {
  const { authorityHost, tenantId } = server.facts;
  const token = await fetchToken(authorityHost, tenantId, clientId, clientSecret, armScope(server));
  const base = `${server.facts.url}/subscriptions/${server.facts.subscriptionId}`;
  return {
    token,
    /** `path` below the subscription (`/resourcegroups/rg`), or absolute when it starts with `//`. */
    call: (method: string, path: string, body?: unknown): Promise<RawResponse> =>
      bearerRequest(
        path.startsWith('//') ? `${server.facts.url}${path.slice(1)}` : `${base}${path}`,
        token,
        method,
        body,
      ),
  };
}

/** The admin API, for what ARM does not manage (principals, role assignments). */
export async function adminApi(server: DevServer) {
  const { facts } = server;
  const token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await bearerRequest(`${facts.url}/coffer${path}`, token, method, body);
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.text}`);
    return response.status === 204 ? undefined : response.json();
  };
  return {
    admin,
    /** A new service principal holding `role` at `scope`. */
    async principalWithRole(name: string, role: string, scope: string): Promise<TestPrincipal> {
      const principal = (await admin('POST', '/principals', { name })) as TestPrincipal;
      await admin('POST', '/roles/assignments', { role, principalId: principal.objectId, scope });
      return principal;
    },
    credentialOf: (principal: TestPrincipal) =>
      credentialFor(facts, principal.clientId, principal.clientSecret),
  };
}

/** Resource Manager's error body: code and message. */
export function armErrorOf(response: RawResponse): { code: string; message: string } {
  return (response.json() as { error: { code: string; message: string } }).error;
}
