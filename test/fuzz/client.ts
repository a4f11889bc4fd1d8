import https from 'node:https';
import type { FuzzRequest } from './requests.js';

/** Longer than any legitimate request takes (an RSA-4096 key, a certificate), far shorter than a hang. */
export const ANSWER_DEADLINE_MS = 20_000;

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
  /** Why the connection broke after the status line, if it did. */
  broken?: string;
}

/** Keep-alive connections per client address, as an SDK would hold them. */
const agents = new Map<string, https.Agent>();

function agentFor(localAddress: string): https.Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, maxSockets: 2, localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

export function closeAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/**
 * Sends one request and resolves with the answer, or rejects when there is none within the
 * deadline (a hang) or the connection breaks without one (a crash, or a reset the server chose).
 */
export function send(port: number, request: FuzzRequest): Promise<FuzzResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    /** Once the status line arrived: the answer so far. */
    let received: ((broken?: Error) => FuzzResponse) | undefined;
    const outgoing = https.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.target,
        // A body always gets its length: Node sends GET, HEAD and DELETE bodies unframed otherwise.
        headers:
          request.body === undefined
            ? request.headers
            : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        servername: 'localhost',
        agent: agentFor(request.localAddress),
        timeout: ANSWER_DEADLINE_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        const answer = (broken?: Error): FuzzResponse => ({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
          broken: broken?.message,
        });
        received = answer;
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(answer()));
        response.on('error', (error) => resolve(answer(error)));
      },
    );
    outgoing.on('timeout', () => {
      outgoing.destroy(new Error(`no answer within ${ANSWER_DEADLINE_MS} ms`));
    });
    // The status arrived: it is the answer, even if the connection broke after it.
    outgoing.on('error', (error) => (received ? resolve(received(error)) : reject(error)));
    if (request.body !== undefined) outgoing.write(request.body);
    outgoing.end();
  });
}

/**
 * Waits until a long-running operation a request started (202 with Azure-AsyncOperation: a
 * vault backup or restore) has finished, polling as its client would: its writes must land
 * before the next refusal is checked for changing nothing. Rejects when it never finishes.
 */
export async function settled(port: number, response: FuzzResponse, token: string): Promise<void> {
  const location = response.headers['azure-asyncoperation'];
  if (response.status !== 202 || typeof location !== 'string') return;
  const url = new URL(location);
  const deadline = Date.now() + ANSWER_DEADLINE_MS;
  while (Date.now() < deadline) {
    const poll = await send(port, {
      route: 'job status',
      family: 'data',
      method: 'GET',
      target: `${url.pathname}${url.search}`,
      headers: { host: url.host, authorization: `Bearer ${token}` },
      auth: 'privileged',
      body: undefined,
      localAddress: '127.0.0.1',
    });
    if (poll.status !== 200 || (JSON.parse(poll.text) as { status?: string }).status !== 'InProgress') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the operation at ${location} did not finish within ${ANSWER_DEADLINE_MS} ms`);
}
