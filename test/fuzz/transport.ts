import fc from 'fast-check';
import { RawConnection } from '../helpers/raw-connection.js';
import { type Json, jsonText, mutated } from './values.js';
import { CANARIES, MAIN_VAULT, type World } from './world.js';

/**
 * Requests no HTTP client sends on purpose, written byte by byte on a TLS connection: framing
 * that lies (Content-Length against the body, both Content-Length and chunked), broken chunks,
 * headers split or doubled, targets in absolute form, HTTP/1.0, pipelining.
 */
export type Framing =
  | 'length-short'
  | 'length-long'
  | 'length-twice'
  | 'length-negative'
  | 'length-and-chunked'
  | 'bad-chunk'
  | 'host-twice'
  | 'obs-fold'
  | 'absolute-target'
  | 'http-1.0'
  | 'pipelined'
  | 'bare-lf';

export const FRAMINGS: Framing[] = [
  'length-short',
  'length-long',
  'length-twice',
  'length-negative',
  'length-and-chunked',
  'bad-chunk',
  'host-twice',
  'obs-fold',
  'absolute-target',
  'http-1.0',
  'pipelined',
  'bare-lf',
];

export interface RawCase {
  framing: Framing;
  target: { method: string; path: string; vault: boolean };
  body: Json;
}

/** Three targets that read a body: a secret write, the token endpoint and an admin write. */
function targets(world: World): Array<{ method: string; path: string; vault: boolean; seed: Json }> {
  return [
    {
      method: 'PUT',
      path: '/secrets/fz-raw?api-version=7.6',
      vault: true,
      seed: { value: CANARIES.secretValue },
    },
    {
      method: 'PATCH',
      path: '/coffer/vaults/fz-victim',
      vault: false,
      seed: { softDeleteRetentionInDays: 30 },
    },
    {
      method: 'POST',
      path: `/${world.tenantId}/oauth2/v2.0/token`,
      vault: false,
      seed: { grant_type: 'client_credentials', client_id: 'x', client_secret: CANARIES.clientSecret },
    },
  ];
}

export function rawCaseArbitrary(world: World): fc.Arbitrary<RawCase> {
  return fc
    .tuple(fc.constantFrom(...FRAMINGS), fc.constantFrom(...targets(world)))
    .chain(([framing, { seed, ...target }]) =>
      fc.oneof(fc.constant(seed), mutated(seed)).map((body) => ({ framing, target, body })),
    );
}

/** The bytes of a case: a request with a lie in its framing. */
export function rawBytes(world: World, rawCase: RawCase): string {
  const { framing, target } = rawCase;
  const host = target.vault ? `${MAIN_VAULT}.vault.localhost:${world.port}` : `localhost:${world.port}`;
  const body = jsonText(rawCase.body);
  const length = Buffer.byteLength(body);
  const head = (version = 'HTTP/1.1', requestTarget = target.path) => [
    `${target.method} ${requestTarget} ${version}`,
    `Host: ${host}`,
    `Authorization: Bearer ${world.adminToken}`,
    'Content-Type: application/json',
  ];
  const request = (lines: string[], payload = body, eol = '\r\n') =>
    `${lines.join(eol)}${eol}${eol}${payload}`;
  switch (framing) {
    case 'length-short':
      return request([...head(), `Content-Length: ${Math.max(0, length - 5)}`]);
    case 'length-long':
      return request([...head(), `Content-Length: ${length + 10}`]);
    case 'length-twice':
      return request([...head(), `Content-Length: ${length}`, `Content-Length: ${length + 1}`]);
    case 'length-negative':
      return request([...head(), 'Content-Length: -1']);
    case 'length-and-chunked':
      return request(
        [...head(), `Content-Length: ${length}`, 'Transfer-Encoding: chunked'],
        `${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
    case 'bad-chunk':
      return request([...head(), 'Transfer-Encoding: chunked'], `zz\r\n${body}\r\n0\r\n\r\n`);
    case 'host-twice':
      return request([...head(), 'Host: evil.example', `Content-Length: ${length}`]);
    case 'obs-fold':
      return request([...head(), `Content-Length: ${length}`, 'X-Folded: a', ' b']);
    case 'absolute-target':
      return request([
        ...head('HTTP/1.1', `https://evil.example${target.path}`),
        `Content-Length: ${length}`,
      ]);
    case 'http-1.0':
      return request([...head('HTTP/1.0'), `Content-Length: ${length}`]);
    case 'pipelined':
      return `${request([...head(), `Content-Length: ${length}`])}${request([...head(), `Content-Length: ${length}`])}`;
    case 'bare-lf':
      return request([...head(), `Content-Length: ${length}`], body, '\n');
  }
}

/**
 * Sends a case and collects the answers: until the server closes the connection, or the
 * answers expected are complete and nothing more came for a moment, or `waitMs` passed.
 */
export async function sendRaw(
  world: World,
  rawCase: RawCase,
  waitMs: number,
): Promise<{ statuses: number[]; text: string }> {
  const connection = await RawConnection.open(world.port);
  const expected = rawCase.framing === 'pipelined' ? 2 : 1;
  try {
    connection.write(rawBytes(world, rawCase));
    const deadline = Date.now() + waitMs;
    let seen = '';
    let quietSince = Date.now();
    while (Date.now() < deadline && connection.closedAfterMs === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (connection.received !== seen) {
        seen = connection.received;
        quietSince = Date.now();
      }
      if (completeAnswers(seen) >= expected && Date.now() - quietSince > 250) break;
    }
    const statuses = [...connection.received.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) =>
      Number(match[1]),
    );
    return { statuses, text: connection.received };
  } finally {
    connection.destroy();
  }
}

/** How many whole answers (head and Content-Length body) a byte stream holds. */
function completeAnswers(stream: string): number {
  let count = 0;
  let rest = stream;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (!rest.startsWith('HTTP/') || end < 0) return count;
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
    if (rest.length < end + 4 + length) return count;
    count++;
    rest = rest.slice(end + 4 + length);
  }
}
