// A small keep-alive HTTPS client for set-up calls, bulk loading and the fallback load loop.
// Every request goes to 127.0.0.1 (the bare host serves the default `dev` vault).
import { Buffer } from 'node:buffer';
import https from 'node:https';
import { readFileSync } from 'node:fs';

export function createClient({ port, caFile, maxSockets = 64 }) {
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: readFileSync(caFile) });
  /** Sends one request; resolves to {status, body} (body parsed as JSON when it is JSON). */
  function request(method, path, { headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  return { request, close: () => agent.destroy() };
}

/** Like request(), but any status outside 2xx is an error that says what was asked. */
export async function expectOk(client, method, path, options) {
  const res = await client.request(method, path, options);
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  return res.body;
}
