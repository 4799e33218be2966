/**
 * The unmodified @azure/identity ManagedIdentityCredential (4.13.1, MSAL underneath) against the
 * NMI on 127.0.0.1. SAFETY (CONTRACTS.md section 7): this machine has a route to a real
 * 169.254.169.254. AZURE_POD_IDENTITY_AUTHORITY_HOST is set before any credential is built (so
 * the SDK neither probes nor uses the default address), retries are off, and every socket
 * connect in this worker is checked: anything but loopback is refused and recorded, and the
 * test fails if a single such attempt happened.
 */
import { request as httpRequest } from 'node:http';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installLoopbackGuard, type LoopbackGuard } from '../../../test/support/loopback-guard.js';
import { createNmiDeps, startNmiServer, type NmiServer } from './server.js';
import type { NmiIdentity, NmiPod, PodAssignment, TokenProvider } from './types.js';

let guard: LoopbackGuard;
/** Hosts the guard refused a connection to (CONTRACTS.md section 7: must stay empty). */
let blocked: string[] = [];

const ID_BOUND: NmiIdentity = {
  namespace: 'apps',
  name: 'reader',
  type: 0,
  clientID: '11111111-1111-1111-1111-111111111111',
  resourceID:
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader',
};
const ID_OTHER: NmiIdentity = {
  ...ID_BOUND,
  name: 'writer',
  clientID: '22222222-2222-2222-2222-222222222222',
};

const BOUND: NmiPod = { namespace: 'apps', name: 'bound', nodeName: 'local', phase: 'Running' };
const UNBOUND: NmiPod = { namespace: 'apps', name: 'unbound', nodeName: 'local', phase: 'Running' };
const OTHER: NmiPod = { namespace: 'apps', name: 'other', nodeName: 'local', phase: 'Running' };
const ASSIGNMENTS: Record<string, PodAssignment[]> = {
  bound: [{ identity: ID_BOUND, status: 'Assigned' }],
  other: [{ identity: ID_OTHER, status: 'Assigned' }],
};

/** Which pod 127.0.0.1 is: every loopback client shares that address. */
let callerAtLoopback: NmiPod = BOUND;
const EXPIRES_ON_S = Math.floor(Date.now() / 1000) + 7200;
const provider: TokenProvider = {
  getToken: (id, resource) =>
    Promise.resolve({
      ok: true,
      token: { accessToken: `jwt-for-${id.clientID}-${resource}`, expiresOnMs: EXPIRES_ON_S * 1000 },
    }),
};

let nmi: NmiServer;
const received: string[] = [];
let resourceCounter = 0;
/** MSAL's managed-identity cache is process-wide: a fresh resource per request forces a call. */
function freshScope(): string {
  resourceCounter += 1;
  return `api://podsec-test-${process.pid}-${resourceCounter}/.default`;
}

beforeAll(async () => {
  guard = installLoopbackGuard();
  blocked = guard.blocked;
  nmi = await startNmiServer({
    host: '127.0.0.1',
    port: 0,
    deps: createNmiDeps({
      nodeName: 'local',
      nodeAddresses: [],
      podsByIp: (ip) => (ip === '127.0.0.1' ? [callerAtLoopback] : []),
      assignedIdentities: (pod) => ASSIGNMENTS[pod.name] ?? [],
      tokenProvider: provider,
      timings: { podLookupAttempts: 1, pendingWaitMs: 0 },
    }),
  });
  nmi.server.on('request', (req: { url?: string }) => received.push(req.url ?? ''));
  // Set BEFORE any credential exists: the SDK then skips its probe and never uses 169.254.169.254.
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = nmi.url;
});

afterAll(async () => {
  await nmi.close();
  guard.uninstall();
});

afterEach(() => {
  callerAtLoopback = BOUND;
  expect(blocked).toEqual([]);
});

function credential(clientId?: string): ManagedIdentityCredential {
  expect(process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(nmi.url);
  const retryOptions = { maxRetries: 0 };
  return clientId === undefined
    ? new ManagedIdentityCredential({ retryOptions })
    : new ManagedIdentityCredential({ clientId, retryOptions });
}

describe('ManagedIdentityCredential (unmodified @azure/identity) against the NMI', () => {
  it('the loopback guard refuses and records a non-loopback connection (TEST-NET, never IMDS)', async () => {
    const err = await new Promise<Error>((resolve) => {
      const req = httpRequest({ host: '192.0.2.1', port: 80, path: '/' }, () =>
        resolve(new Error('connected')),
      );
      req.on('error', resolve);
      req.end();
    });
    expect(err.message).toMatch(/blocked non-loopback/);
    expect(blocked).toEqual(['192.0.2.1']);
    blocked.length = 0;
  });

  it('bound pod gets its token with the right expiry; the NMI saw the request', async () => {
    const before = received.length;
    const scope = freshScope();
    const token = await credential().getToken(scope);
    const resource = scope.replace(/\/\.default$/, '');
    expect(token.token).toBe(`jwt-for-${ID_BOUND.clientID}-${resource}`);
    // MSAL turns expires_on into a lifetime in whole seconds and back: allow its rounding.
    expect(Math.abs(token.expiresOnTimestamp - EXPIRES_ON_S * 1000)).toBeLessThanOrEqual(2000);
    const seen = received.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\/metadata\/identity\/oauth2\/token\/?\?/);
  });

  it('bound pod asking by its own client id', async () => {
    const token = await credential(ID_BOUND.clientID).getToken(freshScope());
    expect(token.token).toContain(ID_BOUND.clientID);
  });

  it('bound pod asking by resource id (msi_res_id)', async () => {
    const retryOptions = { maxRetries: 0 };
    const token = await new ManagedIdentityCredential({
      resourceId: ID_BOUND.resourceID!,
      retryOptions,
    }).getToken(freshScope());
    expect(token.token).toContain(ID_BOUND.clientID);
  });

  it("another pod's client id is refused", async () => {
    const before = received.length;
    const err: unknown = await credential(ID_OTHER.clientID)
      .getToken(freshScope())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toMatch(/^(CredentialUnavailableError|AuthenticationError)$/);
    expect((err as Error).message).toContain('The requested identity is not assigned to pod apps/bound');
    expect(received.length).toBeGreaterThan(before);
  });

  it('an unbound caller gets a clear error', async () => {
    callerAtLoopback = UNBOUND;
    const before = received.length;
    const err: unknown = await credential()
      .getToken(freshScope())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as Error).name).toMatch(/^(CredentialUnavailableError|AuthenticationError)$/);
    expect((err as Error).message).toContain('No identity is assigned to pod apps/unbound');
    expect(received.length).toBe(before + 1);
  });

  it('the other pod, calling from the same address later, gets its own identity', async () => {
    callerAtLoopback = OTHER;
    const token = await credential(ID_OTHER.clientID).getToken(freshScope());
    expect(token.token).toContain(ID_OTHER.clientID);
  });
});
