/**
 * Review finding 2 through a real NMI server: raw HTTP requests (written on a socket, so no client
 * library normalises the path first) from chosen 127.0.0.x source addresses, with the real IMDS
 * replaced by a loopback node:http stand-in that records every request it gets. The attack paths
 * must never reach the stand-in; allowed categories reach it with the canonical path and the
 * query byte for byte; unknown and hostNetwork callers reach nothing. Nothing leaves loopback.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createImdsUpstream } from './providers/imds-upstream.js';
import { createNmiDeps, startNmiServer, type NmiServer } from './server.js';
import type { NmiIdentity, NmiPod } from './types.js';

const ID: NmiIdentity = { namespace: 'apps', name: 'reader', type: 0, clientID: 'reader-id' };
const PODS: Record<string, NmiPod[]> = {
  '127.0.0.2': [{ namespace: 'apps', name: 'bound', phase: 'Running' }],
  '127.0.0.3': [{ namespace: 'kube-system', name: 'agent', phase: 'Running', hostNetwork: true }],
  '127.0.0.5': [
    { namespace: 'kube-system', name: 'proxy', phase: 'Running', hostNetwork: true },
    { namespace: 'kube-system', name: 'exporter', phase: 'Running', hostNetwork: true },
  ],
};

let imds: Server;
let seen: string[] = [];
const nmis: Record<'blocked' | 'open', NmiServer | undefined> = { blocked: undefined, open: undefined };

async function startNmi(allowInstance: boolean, port: number): Promise<NmiServer> {
  return startNmiServer({
    host: '127.0.0.1',
    port: 0,
    deps: createNmiDeps({
      nodeAddresses: ['127.0.0.1'],
      podsByIp: (ip) => PODS[ip] ?? [],
      assignedIdentities: (pod) => (pod.name === 'bound' ? [{ identity: ID, status: 'Assigned' }] : []),
      tokenProvider: {
        getToken: () =>
          Promise.resolve({ ok: true, token: { accessToken: 'x', expiresOnMs: Date.now() + 3_600_000 } }),
      },
      upstream: createImdsUpstream({ address: { host: '127.0.0.1', port }, timeoutMs: 2000 }),
      blockInstanceMetadata: !allowInstance,
      timings: { podLookupAttempts: 1 },
    }),
  });
}

beforeAll(async () => {
  imds = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"from":"imds-stand-in"}');
  });
  await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', resolve));
  const port = (imds.address() as AddressInfo).port;
  nmis.blocked = await startNmi(false, port);
  nmis.open = await startNmi(true, port);
});

afterAll(async () => {
  await nmis.blocked?.close();
  await nmis.open?.close();
  imds.closeAllConnections();
  await new Promise<void>((resolve) => imds.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
});

/** The payload of a chunked body (the answers here are small and complete). */
function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol === -1 || !Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** One request written byte for byte; the answer's status, content type and body. */
function rawGet(
  nmi: NmiServer,
  target: string,
  from: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: nmi.port, localAddress: from });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const cut = text.indexOf('\r\n\r\n');
      const head = cut === -1 ? text : text.slice(0, cut);
      let body = cut === -1 ? '' : text.slice(cut + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) body = unchunk(body);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const type = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
      resolve({ status, type, body });
    });
    socket.write(
      Buffer.concat([
        Buffer.from(`${method} `),
        Buffer.from(target, 'utf8'),
        Buffer.from(' HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n'),
      ]),
    );
  });
}

interface Case {
  readonly name: string;
  readonly target: string;
  readonly from?: string;
  readonly nmi?: 'blocked' | 'open';
  readonly status: number;
  /** Node's HTTP parser itself answers (a bare 400) before the handler sees the request. */
  readonly parserRefuses?: boolean;
  /** What the IMDS stand-in received, if anything. */
  readonly forwarded?: string;
}

const Q = '?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';

const cases: Case[] = [
  // The reviewer's attack paths, from a bound pod: nothing reaches the stand-in.
  {
    name: 'escaped "t" of token: the NMI answers itself',
    target: `/metadata/identity/oauth2/%74oken${Q}`,
    status: 200,
  },
  {
    name: 'escaped "i" of identity: the NMI answers itself',
    target: `/metadata/%69dentity/oauth2/token${Q}`,
    status: 200,
  },
  { name: 'doubled slash', target: `/metadata//identity/oauth2/token${Q}`, status: 400 },
  {
    name: 'escaped "i" of instance: still blocked',
    target: '/metadata/%69nstance/compute?api-version=2021-02-01',
    status: 403,
  },
  { name: 'dot segment', target: '/metadata/./instance?api-version=2021-02-01', status: 400 },
  { name: 'dot-dot segment', target: '/metadata/identity/../instance?api-version=2021-02-01', status: 400 },
  { name: 'escaped dot-dot', target: '/metadata/scheduledevents/%2e%2e/instance', status: 400 },
  { name: 'backslash', target: '/metadata\\instance', status: 400 },
  { name: 'escaped slash', target: '/metadata/identity%2Foauth2%2Ftoken', status: 400 },
  { name: 'raw UTF-8 byte sequence', target: '/metadata/instanc\u00e9', status: 400, parserRefuses: true },
  { name: 'absolute-form target', target: 'http://169.254.169.254/metadata/instance', status: 400 },
  { name: 'other identity endpoint', target: '/metadata/identity/info', status: 404 },
  { name: 'unknown category', target: '/metadata/whatever', status: 404 },
  // Dot segments are refused even when the instance metadata is unblocked.
  {
    name: 'unblocked: dot-dot still refused',
    nmi: 'open',
    target: '/metadata/versions/../instance',
    status: 400,
  },
  // Allowed categories: canonical path, query byte for byte.
  {
    name: 'scheduled events, escaped letter decoded, query verbatim',
    target: '/metadata/%73cheduledevents?api-version=2020-07-01&x=a%20b+c',
    status: 200,
    forwarded: '/metadata/scheduledevents?api-version=2020-07-01&x=a%20b+c',
  },
  {
    name: 'unblocked instance, case kept',
    nmi: 'open',
    target: '/metadata/instance/compute/vmId?api-version=2021-02-01&format=text',
    status: 200,
    forwarded: '/metadata/instance/compute/vmId?api-version=2021-02-01&format=text',
  },
  // Callers of the pass-through.
  { name: 'unknown source', from: '127.0.0.4', target: '/metadata/scheduledevents', status: 404 },
  { name: 'hostNetwork pod', from: '127.0.0.3', target: '/metadata/scheduledevents', status: 403 },
  { name: 'several hostNetwork pods', from: '127.0.0.5', target: '/metadata/scheduledevents', status: 403 },
  { name: 'the node itself', from: '127.0.0.1', target: '/metadata/scheduledevents', status: 403 },
  {
    name: 'unblocked instance, unknown source',
    nmi: 'open',
    from: '127.0.0.4',
    target: '/metadata/instance',
    status: 404,
  },
  {
    name: 'unblocked instance, hostNetwork pod',
    nmi: 'open',
    from: '127.0.0.3',
    target: '/metadata/instance',
    status: 403,
  },
  // The token route for hostNetwork callers (finding 3): 403, not 500.
  {
    name: 'token, several hostNetwork pods on one address',
    from: '127.0.0.5',
    target: `/metadata/identity/oauth2/token${Q}`,
    status: 403,
  },
];

describe('NMI server: canonical paths and pass-through callers', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const nmi = nmis[c.nmi ?? 'blocked'];
      if (nmi === undefined) throw new Error('NMI not started');
      const res = await rawGet(nmi, c.target, c.from ?? '127.0.0.2');
      expect(res.status).toBe(c.status);
      if (c.parserRefuses !== true) expect(res.type).toMatch(/^application\/json/);
      if (c.status >= 400 && c.parserRefuses !== true) {
        const b = JSON.parse(res.body) as Record<string, unknown>;
        expect(typeof b.error).toBe('string');
        expect(typeof b.error_description).toBe('string');
      }
      expect(seen).toEqual(c.forwarded === undefined ? [] : [c.forwarded]);
      if (c.forwarded !== undefined) expect(JSON.parse(res.body)).toEqual({ from: 'imds-stand-in' });
    });
  }
});
