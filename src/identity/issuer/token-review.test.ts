/**
 * The TokenReview authenticator of the mint API: the NMI's projected ServiceAccount token is
 * reviewed by the (fake) API server through kubernetesTokenReviewer (cluster-source's kubeconfig
 * loading); the node comes from user.extra["authentication.kubernetes.io/node-name"] and only the
 * NMI's ServiceAccount counts.
 * Served behind the same mint listener as the client-certificate authenticator, on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../../test/support/fake-apiserver.js';
import { createIssuer } from './issuer.js';
import { KeySet } from './keys.js';
import { clientCertificateAuthenticator, mintListener, MINT_PATH } from './mint-api.js';
import {
  anyAuthenticator,
  kubernetesTokenReviewer,
  nodeFromReview,
  NODE_NAME_EXTRA,
  tokenReviewAuthenticator,
  type TokenReviewOutcome,
} from './token-review.js';

const ON_A = 'client-on-node-a';
const ON_B = 'client-on-node-b';
const NMI_SA = 'system:serviceaccount:podsec-system:podsec-nmi';

const AUD = ['podsec-issuer'];
const NMI_ON_A = { username: NMI_SA, extra: { [NODE_NAME_EXTRA]: ['node-a'] } };
const TOKENS: Record<string, Record<string, unknown>> = {
  'nmi-on-a': { authenticated: true, user: NMI_ON_A, audiences: AUD },
  'app-pod-on-a': {
    authenticated: true,
    user: { username: 'system:serviceaccount:apps:default', extra: { [NODE_NAME_EXTRA]: ['node-a'] } },
    audiences: AUD,
  },
  'nmi-unbound': { authenticated: true, user: { username: NMI_SA }, audiences: AUD },
  // An audience-unaware authenticator answers without status.audiences (review finding 6).
  'nmi-no-audiences': { authenticated: true, user: NMI_ON_A },
  'nmi-empty-audiences': { authenticated: true, user: NMI_ON_A, audiences: [] },
  // e.g. the NMI's default token, whose audience is the API server.
  'nmi-api-audience': {
    authenticated: true,
    user: NMI_ON_A,
    audiences: ['https://kubernetes.default.svc.cluster.local'],
  },
};

let api: FakeApiServer;
let server: Server;
let url: string;
const audiencesSeen: string[][] = [];

beforeAll(async () => {
  api = await startFakeApiServer({
    tokenReview: (spec) => {
      audiencesSeen.push(spec.audiences ?? []);
      return TOKENS[spec.token ?? ''] ?? { authenticated: false, error: 'invalid bearer token' };
    },
  });
  const review = await kubernetesTokenReviewer({ kubeconfig: await api.writeKubeconfig() });
  const keys = await KeySet.generate({ retentionSeconds: 3900 });
  const issuer = createIssuer({
    baseUrl: 'https://issuer.test',
    keys,
    identities: () => [
      { namespace: 'apps', name: 'on-a', clientId: ON_A, tenantId: 't' },
      { namespace: 'apps', name: 'on-b', clientId: ON_B, tenantId: 't' },
    ],
    isAssignedOnNode: (node, id) =>
      (node === 'node-a' && id.name === 'on-a' && id.clientId === ON_A) ||
      (node === 'node-b' && id.name === 'on-b' && id.clientId === ON_B),
  });
  const auth = anyAuthenticator([
    clientCertificateAuthenticator(),
    tokenReviewAuthenticator({ review, serviceAccounts: ['podsec-system/podsec-nmi'] }),
  ]);
  server = createServer(mintListener(issuer, auth));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
});

async function mint(
  token: string | undefined,
  clientId: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${MINT_PATH}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({
      clientId,
      resource: 'api://db',
      identity: { namespace: 'apps', name: clientId === ON_A ? 'on-a' : 'on-b' },
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('mint API with TokenReview (fake API server)', () => {
  it("the NMI's token on node-a mints node-a's identity; the audience is podsec-issuer", async () => {
    const r = await mint('nmi-on-a', ON_A);
    expect(r.status).toBe(200);
    expect(r.body['client_id']).toBe(ON_A);
    expect(audiencesSeen.at(-1)).toEqual(['podsec-issuer']);
  });

  const cases: { name: string; token: string | undefined; clientId: string; status: number; says: RegExp }[] =
    [
      {
        name: "node-b's identity",
        token: 'nmi-on-a',
        clientId: ON_B,
        status: 403,
        says: /not assigned on node 'node-a'/,
      },
      {
        name: "an app pod's token on the same node",
        token: 'app-pod-on-a',
        clientId: ON_A,
        status: 401,
        says: /NMI service account/,
      },
      {
        name: 'a token without a node',
        token: 'nmi-unbound',
        clientId: ON_A,
        status: 401,
        says: /names no node/,
      },
      {
        name: 'a review without status.audiences',
        token: 'nmi-no-audiences',
        clientId: ON_A,
        status: 401,
        says: /did not confirm the token's audience \(podsec-issuer\)/,
      },
      {
        name: 'a review with empty status.audiences',
        token: 'nmi-empty-audiences',
        clientId: ON_A,
        status: 401,
        says: /did not confirm the token's audience/,
      },
      {
        name: 'a review naming only another audience',
        token: 'nmi-api-audience',
        clientId: ON_A,
        status: 401,
        says: /did not confirm the token's audience/,
      },
      {
        name: 'a token the API server rejects',
        token: 'forged',
        clientId: ON_A,
        status: 401,
        says: /not accepted.*invalid bearer token/,
      },
      {
        name: 'no credential at all',
        token: undefined,
        clientId: ON_A,
        status: 401,
        says: /not TLS; no bearer token/,
      },
    ];
  it.each(cases)('refuses $name with $status', async (c) => {
    const r = await mint(c.token, c.clientId);
    expect(r.status).toBe(c.status);
    expect(String(r.body['error_description'])).toMatch(c.says);
    expect(r.body['access_token']).toBeUndefined();
  });

  it('reuses a review for the same token (one TokenReview for several mints)', async () => {
    const before = api.requests.filter((q) => q.path.endsWith('/tokenreviews')).length;
    await mint('nmi-on-a', ON_A);
    await mint('nmi-on-a', ON_A);
    const after = api.requests.filter((q) => q.path.endsWith('/tokenreviews')).length;
    expect(after - before).toBe(0); // reviewed in the first test, cached since
  });
});

describe('tokenReviewAuthenticator without an API server', () => {
  const req = (token: string): Parameters<ReturnType<typeof tokenReviewAuthenticator>['authenticate']>[0] =>
    ({ headers: { authorization: `Bearer ${token}` } }) as never;
  const good: TokenReviewOutcome = {
    authenticated: true,
    username: NMI_SA,
    extra: { [NODE_NAME_EXTRA]: ['node-a'] },
    audiences: ['podsec-issuer'],
  };

  it('an unreachable API server refuses, and is asked again next time (not cached)', async () => {
    let calls = 0;
    let up = false;
    const auth = tokenReviewAuthenticator({
      serviceAccounts: ['podsec-system/podsec-nmi'],
      review: () => {
        calls += 1;
        return up ? Promise.resolve(good) : Promise.reject(new Error('ECONNREFUSED'));
      },
    });
    expect(await auth.authenticate(req('t'))).toMatchObject({ ok: false, reason: /API server unavailable/ });
    up = true;
    expect(await auth.authenticate(req('t'))).toEqual({ ok: true, node: 'node-a', method: 'token-review' });
    expect(calls).toBe(2);
  });

  it('a cached review expires', async () => {
    let now = 0;
    let calls = 0;
    const auth = tokenReviewAuthenticator({
      serviceAccounts: ['podsec-system/podsec-nmi'],
      cacheSeconds: 30,
      now: () => now,
      review: () => {
        calls += 1;
        return Promise.resolve(good);
      },
    });
    await auth.authenticate(req('t'));
    now = 29_000;
    await auth.authenticate(req('t'));
    expect(calls).toBe(1);
    now = 31_000;
    await auth.authenticate(req('t'));
    expect(calls).toBe(2);
  });
});

describe('nodeFromReview', () => {
  const sa = ['podsec-system/podsec-nmi'];
  const one = { [NODE_NAME_EXTRA]: ['n1'] };
  const cases: { name: string; outcome: TokenReviewOutcome; node?: string }[] = [
    {
      name: 'NMI account with one node',
      outcome: { authenticated: true, username: NMI_SA, extra: one, audiences: AUD },
      node: 'n1',
    },
    {
      name: 'the audience among others',
      outcome: { authenticated: true, username: NMI_SA, extra: one, audiences: ['x', 'podsec-issuer'] },
      node: 'n1',
    },
    { name: 'no status.audiences', outcome: { authenticated: true, username: NMI_SA, extra: one } },
    {
      name: 'another audience only',
      outcome: { authenticated: true, username: NMI_SA, extra: one, audiences: ['api'] },
    },
    {
      name: 'an audience differing in case',
      outcome: { authenticated: true, username: NMI_SA, extra: one, audiences: ['PODSEC-ISSUER'] },
    },
    {
      name: 'two nodes',
      outcome: {
        authenticated: true,
        username: NMI_SA,
        extra: { [NODE_NAME_EXTRA]: ['n1', 'n2'] },
        audiences: AUD,
      },
    },
    {
      name: 'an invalid node name',
      outcome: {
        authenticated: true,
        username: NMI_SA,
        extra: { [NODE_NAME_EXTRA]: ['N/1'] },
        audiences: AUD,
      },
    },
    {
      name: 'a user, not a service account',
      outcome: { authenticated: true, username: 'alice', extra: one, audiences: AUD },
    },
    {
      name: 'not authenticated',
      outcome: { authenticated: false, username: NMI_SA, extra: { [NODE_NAME_EXTRA]: ['n1'] } },
    },
  ];
  it.each(cases)('$name', (c) => {
    const got = nodeFromReview(c.outcome, sa, AUD);
    expect(got.ok ? got.node : undefined).toBe(c.node);
  });
});
