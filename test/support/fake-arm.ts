/**
 * A local HTTPS stand-in for the parts of Azure Resource Manager the MIC uses: GET and PATCH of
 * virtual machines and scale sets (identity only, with ARM's PATCH semantics: listed user-assigned
 * identities are added, null entries removed, `type` replaced), on 127.0.0.1 with a certificate
 * from src/lib/tls. Tests script failures per request (429 with Retry-After, 5xx) and read back
 * every request and the stored identities. Nothing here talks to Azure.
 */
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateCertificates } from '../../src/lib/tls/index.js';

export interface FakeArmIdentity {
  type: string;
  userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
}

export interface FakeArmRequest {
  method: string;
  /** Path without the query, e.g. /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1 */
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  body: unknown;
}

export interface ScriptedFailure {
  status: number;
  headers?: Record<string, string>;
  code?: string;
}

export interface FakeArm {
  readonly url: string;
  /** The CA to trust (PEM). */
  readonly ca: string;
  readonly requests: FakeArmRequest[];
  /** Adds a VM (`virtualMachines/NAME`) or scale set (`virtualMachineScaleSets/NAME`) with an identity. */
  addResource(
    subscription: string,
    resourceGroup: string,
    kindAndName: string,
    identity?: FakeArmIdentity,
  ): string;
  identityOf(resourceId: string): FakeArmIdentity | undefined;
  /** The next matching requests fail like this, in order. */
  failNext(method: 'GET' | 'PATCH', failures: ScriptedFailure[]): void;
  /**
   * PATCHes answer 202 with an Azure-AsyncOperation to poll, InProgress this many times before
   * Succeeded ('never': forever); undefined: 200 at once (the default).
   */
  asyncUpdates(polls: number | 'never' | undefined): void;
  /** A PATCH adding this identity answers 400 naming it, as ARM does for a deleted identity. */
  rejectIdentity(id: string): void;
  /** Every matching request fails like this until cleared (undefined). */
  failAlways(method: 'GET' | 'PATCH', failure: ScriptedFailure | undefined): void;
  close(): Promise<void>;
}

export async function startFakeArm(): Promise<FakeArm> {
  const certs = await generateCertificates({ service: 'arm', namespace: 'test', localhost: true });
  const resources = new Map<string, { id: string; identity: FakeArmIdentity }>(); // lower-cased id
  const requests: FakeArmRequest[] = [];
  const queued: Record<string, ScriptedFailure[]> = { GET: [], PATCH: [] };
  const always: Record<string, ScriptedFailure | undefined> = {};
  const refused = new Set<string>();
  const operations = new Map<string, number | 'never'>();
  let opCounter = 0;
  let asyncPolls: number | 'never' | undefined;
  let port = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://arm.local');
      const text = Buffer.concat(chunks).toString();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      const method = req.method ?? 'GET';
      requests.push({
        method,
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        authorization: req.headers.authorization,
        body,
      });
      const failure = queued[method]?.shift() ?? always[method];
      if (failure) {
        send(
          res,
          failure.status,
          { error: { code: failure.code ?? 'Scripted', message: 'scripted failure' } },
          failure.headers ?? {},
        );
        return;
      }
      const op = /\/operations\/(op-\d+)$/.exec(url.pathname);
      if (op && method === 'GET') {
        const left = operations.get(op[1]!);
        if (left === undefined) {
          send(res, 404, { error: { code: 'NotFound', message: 'no such operation' } });
          return;
        }
        if (left !== 'never') operations.set(op[1]!, left - 1);
        const done = left !== 'never' && left <= 0;
        send(res, 200, { name: op[1], status: done ? 'Succeeded' : 'InProgress' });
        return;
      }
      const r = resources.get(url.pathname.toLowerCase());
      if (!r) {
        send(res, 404, { error: { code: 'ResourceNotFound', message: 'not found' } });
        return;
      }
      if (method === 'PATCH') {
        const patch = (
          body as { identity?: { type?: string; userAssignedIdentities?: Record<string, unknown> } }
        )?.identity;
        const bad = Object.entries(patch?.userAssignedIdentities ?? {}).find(
          ([id, v]) => v !== null && refused.has(id.toLowerCase()),
        );
        if (bad) {
          send(res, 400, {
            error: {
              code: 'FailedIdentityOperation',
              message: `Identity operation for resource '${r.id}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{"error":{"code":"BadRequest","message":"Resource '${bad[0]}' was not found."}}''.`,
            },
          });
          return;
        }
        if (patch) {
          const next: Record<string, { principalId: string; clientId: string }> = {
            ...r.identity.userAssignedIdentities,
          };
          for (const [id, v] of Object.entries(patch.userAssignedIdentities ?? {})) {
            const existing = Object.keys(next).find((k) => k.toLowerCase() === id.toLowerCase());
            if (v === null) {
              if (existing !== undefined) delete next[existing];
            } else if (existing === undefined) {
              next[id] = { principalId: `p-${id.length}`, clientId: `c-${id.split('/').pop() ?? ''}` };
            }
          }
          const type = patch.type ?? r.identity.type;
          const userAllowed = type.includes('UserAssigned');
          if (!userAllowed && Object.keys(next).length > 0 && patch.userAssignedIdentities !== undefined) {
            send(res, 400, {
              error: { code: 'InvalidParameter', message: 'identities without UserAssigned type' },
            });
            return;
          }
          r.identity = userAllowed ? { type, userAssignedIdentities: next } : { type };
        }
      } else if (method !== 'GET') {
        send(res, 405, { error: { code: 'MethodNotAllowed', message: method } });
        return;
      }
      const body_ = { id: r.id, name: r.id.split('/').pop(), location: 'westeurope', identity: r.identity };
      if (method === 'PATCH' && asyncPolls !== undefined) {
        // ARM's long-running form: accepted, then an operation to poll until it says Succeeded.
        const id = `op-${++opCounter}`;
        operations.set(id, asyncPolls);
        const location = `https://127.0.0.1:${port}/subscriptions/x/providers/Microsoft.Compute/locations/westeurope/operations/${id}?api-version=2024-07-01`;
        send(res, 202, {}, { 'Azure-AsyncOperation': location, 'Retry-After': '0' });
        return;
      }
      send(res, 200, body_);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    ca: certs.caCert,
    requests,
    addResource(subscription, resourceGroup, kindAndName, identity = { type: 'None' }) {
      const id = `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/${kindAndName}`;
      resources.set(id.toLowerCase(), { id, identity: structuredClone(identity) });
      return id;
    },
    identityOf(resourceId) {
      return resources.get(resourceId.toLowerCase())?.identity;
    },
    failNext(method, failures) {
      queued[method]!.push(...failures);
    },
    asyncUpdates(polls) {
      asyncPolls = polls;
    },
    rejectIdentity(id) {
      refused.add(id.toLowerCase());
    },
    failAlways(method, failure) {
      always[method] = failure;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
