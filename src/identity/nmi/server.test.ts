/** The node:http edge: the caller is the socket's peer address (127.0.0.x via localAddress), never a header. */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNmiDeps, startNmiServer, type NmiServer } from './server.js';
import type { NmiIdentity, NmiPod } from './types.js';

const ID: NmiIdentity = { namespace: 'apps', name: 'reader', type: 0, clientID: 'reader-id' };
const PODS: Record<string, NmiPod> = {
  '127.0.0.2': { namespace: 'apps', name: 'bound', phase: 'Running' },
  '127.0.0.3': { namespace: 'apps', name: 'unbound', phase: 'Running' },
};

let nmi: NmiServer;

beforeAll(async () => {
  nmi = await startNmiServer({
    host: '127.0.0.1',
    port: 0,
    deps: createNmiDeps({
      nodeAddresses: ['127.0.0.1'],
      podsByIp: (ip) => (PODS[ip] === undefined ? [] : [PODS[ip]]),
      assignedIdentities: (pod) => (pod.name === 'bound' ? [{ identity: ID, status: 'Assigned' }] : []),
      tokenProvider: {
        getToken: () =>
          Promise.resolve({ ok: true, token: { accessToken: 'x', expiresOnMs: Date.now() + 3_600_000 } }),
      },
      timings: { podLookupAttempts: 1 },
    }),
  });
});

afterAll(() => nmi.close());

function get(
  path: string,
  localAddress: string,
  headers: Record<string, string> = { Metadata: 'true' },
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: nmi.port, path, localAddress, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TOKEN = '/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https%3A%2F%2Fa.example';

describe('startNmiServer', () => {
  const cases = [
    { name: 'bound pod by its source address', path: TOKEN, from: '127.0.0.2', status: 200 },
    { name: 'unbound pod', path: TOKEN, from: '127.0.0.3', status: 403 },
    { name: 'the node itself', path: TOKEN, from: '127.0.0.1', status: 403 },
    { name: 'unknown address', path: TOKEN, from: '127.0.0.4', status: 404 },
    {
      name: 'a header cannot claim to be a pod',
      path: TOKEN,
      from: '127.0.0.4',
      status: 404,
      headers: { Metadata: 'true', 'X-Forwarded-For': '127.0.0.2', podname: 'bound', podns: 'apps' },
    },
    { name: 'healthz', path: '/healthz', from: '127.0.0.1', status: 200, headers: {} },
    { name: 'metrics', path: '/metrics', from: '127.0.0.1', status: 200, headers: {} },
    { name: 'malformed URL', path: '//[', from: '127.0.0.2', status: 400 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const res = await get(c.path, c.from, c.headers);
      expect(res.status).toBe(c.status);
      if (c.path.startsWith('/metadata') || c.status >= 400) {
        expect(res.type).toMatch(/^application\/json/);
      }
    });
  }

  it('success carries the echoed resource', async () => {
    const res = await get(TOKEN, '127.0.0.2');
    expect(JSON.parse(res.body)).toMatchObject({ resource: 'https://a.example', client_id: 'reader-id' });
  });
});
