#!/usr/bin/env node
/**
 * The orders database's API, standing in for any service that accepts Azure AD tokens: it trusts
 * one issuer (podsec's, for one tenant), accepts tokens meant for it (audience `api://orders-db`)
 * and only for the identities it knows (appid and oid of `orders-db-reader`). Everything else is
 * refused with the reason: 401 without a valid token, 403 for a valid token of another identity.
 *
 * The signing keys come from the issuer's JWKS over HTTPS, trusting the CA `podsec identity up`
 * made; a token signed by an unknown key makes it fetch the JWKS again (rotation), at most every
 * 10 seconds. Verification is the same as podsec's helper (src/identity/issuer/verify.ts) does,
 * with jose directly, because podsec publishes no library entry point yet.
 *
 *   node examples/identity/resource-server.mjs [--state DIR] [--port 8080]
 *
 * It reads where the issuer listens from DIR/.podsec/identity-up/endpoints.json, which
 * `podsec identity up --state DIR` writes once it is ready (DIR defaults to this directory).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createLocalJWKSet, errors, jwtVerify } from 'jose';

/** What this API trusts. In a real deployment this is the API's configuration. */
export const TRUST = {
  tenant: '6f2c8a4e-0b1d-4c3a-9e57-3d8b2a1f4c90',
  audience: 'api://orders-db',
  // The identities allowed to read orders: appid (client id) and oid of each.
  allowed: [
    {
      name: 'orders-db-reader',
      appid: '3b9f6d2e-8c41-4a7e-b5d0-91c2e7a4f608',
      oid: '3b9f6d2e-8c41-4a7e-b5d0-91c2e7a4f608',
    },
  ],
};

const HERE = dirname(fileURLToPath(import.meta.url));
const JWKS_REFETCH_MS = 10_000;

/** endpoints.json of a running `podsec identity up`, waiting for it up to `timeoutMs`. */
export async function readEndpoints(stateDir, { timeoutMs = 30_000, pid } = {}) {
  const file = join(stateDir, '.podsec', 'identity-up', 'endpoints.json');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const endpoints = JSON.parse(await readFile(file, 'utf8'));
      if (pid === undefined || endpoints.pid === pid) return endpoints;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${file} did not appear: is \`podsec identity up --state ${stateDir}\` running?`);
    }
    await sleep(100);
  }
}

function getJson(url, ca) {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`GET ${url}: not JSON`, { cause: err }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A jose key resolver over the issuer's JWKS, fetched again when a token names an unknown key. */
function jwksResolver(jwksUrl, ca) {
  let current;
  let fetchedAt = 0;
  const refresh = async () => {
    current = createLocalJWKSet(await getJson(jwksUrl, ca));
    fetchedAt = Date.now();
  };
  return async (header, token) => {
    if (current === undefined) await refresh();
    try {
      return await current(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - fetchedAt < JWKS_REFETCH_MS) throw err;
      await refresh();
      return current(header, token);
    }
  };
}

/**
 * Checks one Authorization header. Outcomes are values:
 * {status: 200, identity} | {status: 401 | 403, error, reason}.
 */
export async function authorize(header, { issuer, getKey, trust = TRUST }) {
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header ?? '');
  if (m === null) return { status: 401, error: 'invalid_request', reason: 'no bearer token' };
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(m[1], getKey, {
      issuer,
      audience: trust.audience,
      algorithms: ['RS256', 'ES256'],
      clockTolerance: 60,
      requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
    }));
  } catch (err) {
    const reason = `${err?.code ?? 'ERR_JWT_INVALID'}: ${err instanceof Error ? err.message : 'invalid token'}`;
    return { status: 401, error: 'invalid_token', reason };
  }
  const appid = claims.appid ?? claims.azp;
  const known = trust.allowed.find((a) => a.appid === appid && a.oid === claims.oid);
  if (known === undefined) {
    return {
      status: 403,
      error: 'insufficient_scope',
      reason: `identity appid=${String(appid)} oid=${String(claims.oid)} may not read orders`,
    };
  }
  return { status: 200, identity: known.name, appid, oid: claims.oid };
}

/** Starts the API; resolves to {url, close()}. */
export async function startResourceServer({ endpoints, port = 8080, host = '127.0.0.1', trust = TRUST }) {
  const tenant = endpoints.tenants.find((t) => t.tenant === trust.tenant);
  if (tenant === undefined) {
    throw new Error(`the issuer serves no tenant ${trust.tenant}: is the AzureIdentity's Secret there?`);
  }
  const ca = await readFile(endpoints.caFile, 'utf8');
  const getKey = jwksResolver(tenant.jwks, ca);
  const server = createServer((req, res) => {
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method !== 'GET' || req.url !== '/orders') return send(404, { error: 'not_found' });
    authorize(req.headers.authorization, { issuer: tenant.issuer, getKey, trust }).then(
      (r) => {
        if (r.status === 200) {
          return send(200, { caller: r.identity, orders: [{ id: 1042, item: 'espresso beans', qty: 3 }] });
        }
        const challenge = `Bearer error="${r.error}", error_description="${r.reason.replaceAll('"', "'")}"`;
        send(r.status, { error: r.error, reason: r.reason }, { 'www-authenticate': challenge });
      },
      () => send(500, { error: 'server_error' }),
    );
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const { values } = parseArgs({
    options: { state: { type: 'string', default: HERE }, port: { type: 'string', default: '8080' } },
  });
  const endpoints = await readEndpoints(values.state);
  const api = await startResourceServer({ endpoints, port: Number(values.port) });
  process.stdout.write(`orders API listening on ${api.url}/orders (trusts ${TRUST.audience})\n`);
  const stop = () => void api.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`resource-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
