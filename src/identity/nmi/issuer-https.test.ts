/**
 * The NMI's HTTPS mint client against a scripted issuer on 127.0.0.1: how each issuer answer
 * reaches the pod (token, 403, 400, 503 with Retry-After), which failures are retried (5xx and
 * connection errors only, a bounded number of times), the per-attempt timeout, and connection reuse.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateCertificates } from '../../lib/tls/index.js';
import { createHttpsIssuerClient, parseIssuerUrl, type HttpsIssuerClient } from './issuer-https.js';
import { duplicateForPod, type IssuerMintRequest } from './issuer-provider.js';

interface Scripted {
  status: number;
  body: string;
  /** Never answer (for the timeout case). */
  hang?: boolean;
}

let server: Server;
let port: number;
let ca: string;
let script: Scripted[] = [];
let hits = 0;
let connections = 0;
const bodies: string[] = [];

const REQ: IssuerMintRequest = {
  clientId: 'c1',
  resource: 'api://db',
  identity: { namespace: 'apps', name: 'reader' },
};
const azureError = (error: string, description: string): string =>
  JSON.stringify({
    error,
    error_description: `AADSTS50105: ${description} Trace ID: t Correlation ID: c Timestamp: 2026-11-23 01:00:00Z`,
  });
const TOKEN = JSON.stringify({
  token_type: 'Bearer',
  access_token: 'jwt',
  expires_in: 3599,
  expires_on: 2_000_000_000,
  not_before: 1_999_996_401,
  resource: 'api://db',
  client_id: 'c1',
});

beforeAll(async () => {
  const certs = await generateCertificates({ service: 'issuer', namespace: 'test', localhost: true });
  ca = certs.caCert;
  server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    hits += 1;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(body);
      const next = script.shift() ?? { status: 500, body: '{}' };
      if (next.hang === true) return;
      res.writeHead(next.status, { 'content-type': 'application/json' });
      res.end(next.body);
    });
  });
  server.on('secureConnection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  script = [];
  hits = 0;
  connections = 0;
  bodies.length = 0;
});

function client(over: { port?: number; timeoutMs?: number } = {}): HttpsIssuerClient {
  return createHttpsIssuerClient({
    url: new URL(`https://localhost:${over.port ?? port}`),
    // no client certificate needed by this scripted issuer; the pair only has to parse
    tls: { ca, cert: '', key: '' },
    backoffMs: 1,
    timeoutMs: over.timeoutMs ?? 2_000,
  });
}

describe('HTTPS issuer client: mint', () => {
  const cases: { name: string; script: Scripted[]; hits: number; expected: unknown }[] = [
    {
      name: 'a token',
      script: [{ status: 200, body: TOKEN }],
      hits: 1,
      expected: { accessToken: 'jwt', expiresOnMs: 2_000_000_000_000, notBeforeMs: 1_999_996_401_000 },
    },
    {
      name: 'a 503 then a token (retried)',
      script: [
        { status: 503, body: '{}' },
        { status: 200, body: TOKEN },
      ],
      hits: 2,
      expected: { accessToken: 'jwt' },
    },
    {
      name: '5xx every time: 503 with Retry-After after 3 attempts',
      script: [
        { status: 500, body: '{}' },
        { status: 502, body: '{}' },
        { status: 503, body: '{}' },
      ],
      hits: 3,
      expected: { refused: true, status: 503, error: 'temporarily_unavailable', retryAfterSeconds: 5 },
    },
    {
      name: 'not assigned on this node: 403, not retried',
      script: [
        {
          status: 403,
          body: azureError('unauthorized_client', "Identity 'c1' is not assigned on node 'n'."),
        },
      ],
      hits: 1,
      expected: {
        refused: true,
        status: 403,
        error: 'forbidden',
        description: 'Identity apps/reader (c1) is not assigned on this node',
      },
    },
    {
      name: "a client id claimed by two AzureIdentities (409): 403 naming only the pod's own identity, not retried",
      script: [
        {
          status: 409,
          body: azureError(
            'unauthorized_client',
            'client id c1 is claimed by more than one AzureIdentity (apps/reader, evil/copy); none of them is usable until only one remains.',
          ),
        },
      ],
      hits: 1,
      expected: {
        refused: true,
        status: 403,
        error: 'forbidden',
        // the pod hears only about its own identity, not the other claimants' namespaces
        description: duplicateForPod(REQ.identity, REQ.clientId),
      },
    },
    {
      name: 'unknown identity: 400',
      script: [{ status: 404, body: azureError('unauthorized_client', 'not known') }],
      hits: 1,
      expected: { refused: true, status: 400, error: 'invalid_request' },
    },
    {
      name: 'bad resource: 400 with the sentence only (no AADSTS code, no trace ids)',
      script: [
        { status: 400, body: azureError('invalid_request', 'resource must be a non-empty identifier.') },
      ],
      hits: 1,
      expected: {
        refused: true,
        status: 400,
        error: 'invalid_resource',
        description: 'resource must be a non-empty identifier.',
      },
    },
    {
      name: "this node's certificate refused (401): 503, not retried",
      script: [{ status: 401, body: azureError('invalid_client', 'no client certificate') }],
      hits: 1,
      expected: { refused: true, status: 503, error: 'temporarily_unavailable' },
    },
    {
      name: 'a 200 that is not a token: 503',
      script: [{ status: 200, body: '{"access_token": 5}' }],
      hits: 1,
      expected: { refused: true, status: 503 },
    },
    {
      name: 'a 200 whose body is JSON null: 503, no fault',
      script: [{ status: 200, body: 'null' }],
      hits: 1,
      expected: { refused: true, status: 503, error: 'temporarily_unavailable' },
    },
    {
      name: 'a 200 whose body is an array: 503, no fault',
      script: [{ status: 200, body: '[]' }],
      hits: 1,
      expected: { refused: true, status: 503, error: 'temporarily_unavailable' },
    },
    {
      name: 'a 200 whose body is a string: 503, no fault',
      script: [{ status: 200, body: '"jwt"' }],
      hits: 1,
      expected: { refused: true, status: 503, error: 'temporarily_unavailable' },
    },
    {
      name: 'a 200 whose body is not JSON: 503, no fault',
      script: [{ status: 200, body: '<html>' }],
      hits: 1,
      expected: { refused: true, status: 503, error: 'temporarily_unavailable' },
    },
  ];
  it.each(cases)('$name', async (c) => {
    script = [...c.script];
    const cl = client();
    try {
      expect(await cl.mint(REQ)).toMatchObject(c.expected as object);
      expect(hits).toBe(c.hits);
      // the exact AzureIdentity object goes with the client id (review finding 1)
      expect(JSON.parse(bodies[0] ?? '{}')).toEqual({
        clientId: 'c1',
        resource: 'api://db',
        identity: { namespace: 'apps', name: 'reader' },
      });
    } finally {
      cl.close();
    }
  });

  it('an unreachable issuer: 503 with Retry-After', async () => {
    const cl = client({ port: 9 });
    try {
      expect(await cl.mint(REQ)).toMatchObject({ refused: true, status: 503, retryAfterSeconds: 5 });
    } finally {
      cl.close();
    }
  });

  it('an issuer that never answers: each attempt times out, then 503', async () => {
    script = [
      { status: 200, body: TOKEN, hang: true },
      { status: 200, body: TOKEN, hang: true },
      { status: 200, body: TOKEN, hang: true },
    ];
    const cl = client({ timeoutMs: 100 });
    try {
      expect(await cl.mint(REQ)).toMatchObject({ refused: true, status: 503 });
      expect(hits).toBe(3);
    } finally {
      cl.close();
    }
  });

  it('keeps the connection alive across mints', async () => {
    script = [
      { status: 200, body: TOKEN },
      { status: 200, body: TOKEN },
      { status: 200, body: TOKEN },
    ];
    const cl = client();
    try {
      for (let i = 0; i < 3; i++) expect(await cl.mint(REQ)).toMatchObject({ accessToken: 'jwt' });
      expect(connections).toBe(1);
    } finally {
      cl.close();
    }
  });
});

describe('HTTPS issuer client: whoami', () => {
  it('names the node the issuer sees', async () => {
    script = [{ status: 200, body: '{"node":"node-a","method":"client-certificate"}' }];
    const cl = client();
    try {
      expect(await cl.whoami()).toEqual({
        ok: true,
        value: { node: 'node-a', method: 'client-certificate' },
      });
    } finally {
      cl.close();
    }
  });

  it('says why when the issuer refuses', async () => {
    script = [{ status: 401, body: azureError('invalid_client', 'The caller is not an authenticated NMI.') }];
    const cl = client();
    try {
      expect(await cl.whoami()).toEqual({
        ok: false,
        reason: 'the issuer answered 401: The caller is not an authenticated NMI.',
      });
    } finally {
      cl.close();
    }
  });
});

describe('parseIssuerUrl', () => {
  it.each([
    ['https://issuer.podsec-system.svc:8444', true],
    ['https://127.0.0.1:8444/base', true],
    ['http://issuer:8444', false],
    ['https://user:pw@issuer', false],
    ['https://issuer/?x=1', false],
    ['not a url', false],
  ])('%s -> %s', (text, ok) => {
    expect(parseIssuerUrl(text).ok).toBe(ok);
  });
});
