#!/usr/bin/env node
/**
 * The pod identity flow end to end, without a cluster. It starts `podsec identity up` on this
 * directory (issuer, controller and NMI) and the orders API (resource-server.mjs), then plays the
 * two pods of pods.yaml: each request leaves from the pod's IP (127.0.0.10, 127.0.0.11), which is
 * all the NMI knows about its caller, exactly as on a node.
 *
 *   orders-api (labelled aadpodidbinding: orders-api) gets a token and reads orders: 200; its
 *   token for another resource (api://billing) is refused by the orders API (401, audience)
 *   reporting (no label) gets no token (403), cannot borrow orders-api's identity by asking for
 *   its client_id (403), and the API refuses it without a token (401); the node's own address
 *   (127.0.0.1, where the NMI listens) is no pod either (403)
 *   billing-reader, used by an application outside the cluster with its client secret, gets a
 *   genuine token from the issuer, which the orders API refuses: not an identity it trusts (403)
 *
 *   node examples/identity/demo.mjs                 starts everything, runs, stops (exit 0 = as expected)
 *   node examples/identity/demo.mjs --use-running   uses a `podsec identity up` already running
 *
 * Options: --state DIR (default: this directory), --podsec FILE (the podsec CLI; default the
 * built ../../dist/cli/main.js, or $PODSEC_BIN). Tokens are never printed, only their claims.
 */
import { spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, URL, URLSearchParams } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { readEndpoints, startResourceServer, TRUST } from './resource-server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESOURCE = TRUST.audience;
const ORDERS_CLIENT_ID = TRUST.allowed[0].appid;
// The other identity of identity.yaml and its demo secret (an application outside the cluster).
const BILLING = {
  clientId: '8d1e47a0-52c9-4f3b-a6e8-0c7b9d2f5e13',
  secret: 'demo-only-billing-not-a-real-secret',
};
const PODS = {
  ordersApi: { name: 'orders/orders-api', ip: '127.0.0.10' },
  reporting: { name: 'orders/reporting', ip: '127.0.0.11' },
};

/** One HTTP GET sent from `localAddress` (the pod's IP); resolves {status, headers, body}. */
function get(url, { localAddress, headers = {} }) {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { localAddress, headers, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function parse(body) {
  try {
    return JSON.parse(body);
  } catch {
    return {};
  }
}

/** What a pod's Azure SDK does: ask the metadata endpoint, retrying while an assignment is pending. */
async function askNmi(endpoints, pod, extraQuery = '', resource = RESOURCE) {
  const url = `${endpoints.nmiUrl}${endpoints.tokenPath}?api-version=2018-02-01&resource=${encodeURIComponent(resource)}${extraQuery}`;
  for (let attempt = 1; ; attempt++) {
    const r = await get(url, { localAddress: pod.ip, headers: { Metadata: 'true' } });
    const retryAfter = Number(r.headers['retry-after'] ?? 'NaN');
    if (r.status === 404 && Number.isFinite(retryAfter) && attempt < 5) {
      await sleep(Math.min(retryAfter, 2) * 1000);
      continue;
    }
    return { status: r.status, body: parse(r.body) };
  }
}

/** OAuth2 client_credentials with a client secret against the issuer's token endpoint. */
async function clientCredentials(endpoints, client) {
  const tenant = endpoints.tenants.find((t) => t.tenant === TRUST.tenant);
  if (tenant === undefined) return { status: 0, body: { error: `tenant ${TRUST.tenant} not served` } };
  const url = new URL(`${endpoints.issuerBaseUrl}/${tenant.tenant}/oauth2/v2.0/token`);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.secret,
    scope: `${RESOURCE}/.default`,
  }).toString();
  const ca = await readFile(endpoints.caFile, 'utf8');
  return new Promise((resolvePromise, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        ca,
        timeout: 15_000,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(form),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: parse(body) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url.href}: timed out`)));
    req.on('error', reject);
    req.end(form);
  });
}

function describeToken(body) {
  const c = decodeJwt(body.access_token);
  return `token for aud=${String(c.aud)} appid=${String(c.appid ?? c.azp)} oid=${String(c.oid)}, expires_on ${String(body.expires_on)}`;
}

async function run(endpoints, api, say) {
  const outcomes = [];
  const expect = (what, got, want, detail) => {
    const ok = got === want;
    outcomes.push(ok);
    say(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${got}${ok ? '' : ` (expected ${want})`} ${detail}`);
  };

  const a = PODS.ordersApi;
  const t = await askNmi(endpoints, a);
  expect(
    `${a.name} (${a.ip}) asks the NMI for ${RESOURCE}`,
    t.status,
    200,
    t.status === 200 ? describeToken(t.body) : JSON.stringify(t.body),
  );
  if (t.status === 200) {
    const r = await get(`${api.url}/orders`, {
      localAddress: a.ip,
      headers: { authorization: `Bearer ${t.body.access_token}` },
    });
    expect(`${a.name} calls the orders API with it`, r.status, 200, r.body.trim());
  }
  // A token for another resource is refused by this API: the audience is checked.
  const other = await askNmi(endpoints, a, '', 'api://billing');
  if (other.status === 200) {
    const r = await get(`${api.url}/orders`, {
      localAddress: a.ip,
      headers: { authorization: `Bearer ${other.body.access_token}` },
    });
    expect(`${a.name} calls the orders API with a token for api://billing`, r.status, 401, r.body.trim());
  } else {
    expect(`${a.name} asks the NMI for api://billing`, other.status, 200, JSON.stringify(other.body));
  }

  const b = PODS.reporting;
  const u = await askNmi(endpoints, b);
  expect(`${b.name} (${b.ip}) asks the NMI for ${RESOURCE}`, u.status, 403, JSON.stringify(u.body));
  const v = await askNmi(endpoints, b, `&client_id=${ORDERS_CLIENT_ID}`);
  expect(`${b.name} asks for orders-api's identity by client_id`, v.status, 403, JSON.stringify(v.body));
  const w = await get(`${api.url}/orders`, { localAddress: b.ip });
  expect(`${b.name} calls the orders API without a token`, w.status, 401, w.body.trim());
  // An application outside the cluster with billing-reader's secret gets a genuine token from the
  // issuer (client_credentials, as with Azure AD); the orders API does not let that identity in.
  const billing = await clientCredentials(endpoints, BILLING);
  if (billing.status === 200) {
    const r = await get(`${api.url}/orders`, {
      localAddress: '127.0.0.1',
      headers: { authorization: `Bearer ${billing.body.access_token}` },
    });
    expect('billing-reader (client credentials) calls the orders API', r.status, 403, r.body.trim());
  } else {
    expect('billing-reader asks the issuer for a token', billing.status, 200, JSON.stringify(billing.body));
  }

  // The node itself (the address the NMI listens on) is no pod: refused too.
  const node = { name: 'the node', ip: new URL(endpoints.nmiUrl).hostname };
  const n = await askNmi(endpoints, node);
  expect(`${node.name} (${node.ip}) asks the NMI for ${RESOURCE}`, n.status, 403, JSON.stringify(n.body));
  return outcomes.every(Boolean);
}

async function main() {
  const { values } = parseArgs({
    options: {
      state: { type: 'string', default: HERE },
      podsec: { type: 'string' },
      'use-running': { type: 'boolean', default: false },
    },
  });
  const state = resolve(values.state);
  const say = (line) => process.stdout.write(`${line}\n`);
  let up;
  let upExit;
  if (!values['use-running']) {
    const bin = resolve(
      values.podsec ?? process.env.PODSEC_BIN ?? join(HERE, '..', '..', 'dist', 'cli', 'main.js'),
    );
    if (!existsSync(bin)) throw new Error(`${bin} does not exist: build podsec first (npm run build)`);
    say(`starting: podsec identity up --state ${values.state}`);
    up = spawn(
      process.execPath,
      [bin, 'identity', 'up', '--state', state, '--issuer-port', '0', '--nmi-port', '0'],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    upExit = new Promise((r) => up.on('exit', (code, signal) => r(code ?? signal)));
    const stop = () => up.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  let api;
  let passed = false;
  try {
    const endpoints = await Promise.race([
      readEndpoints(state, { timeoutMs: 60_000, pid: up?.pid }),
      ...(upExit
        ? [upExit.then((code) => Promise.reject(new Error(`podsec identity up exited (${code})`)))]
        : []),
    ]);
    api = await startResourceServer({ endpoints, port: 0 });
    say(
      `orders API (resource server) on ${api.url}/orders: trusts ${TRUST.audience}, tenant ${TRUST.tenant}`,
    );
    say('');
    passed = await run(endpoints, api, say);
    say('');
    say(passed ? 'demo: every outcome as expected' : 'demo: some outcomes were NOT as expected');
  } finally {
    await api?.close();
    if (up !== undefined && up.exitCode === null) {
      up.kill('SIGTERM');
      const code = await upExit;
      if (code !== 0) say(`podsec identity up exited with ${String(code)}`);
    }
  }
  process.exitCode = passed ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
