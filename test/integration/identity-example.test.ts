/**
 * examples/identity as a user runs it: `node examples/identity/demo.mjs` starts the built
 * `podsec identity up` (issuer, controller, NMI) and the example's resource server, then plays
 * the two pods from their loopback pod IPs. The pod with the binding gets a token that the
 * resource server accepts; the pod without it is refused by the NMI and by the API. A second run
 * on the same state converges (one assignment, no duplicate), and the manifests pass restricted.
 * The state is a copy of the example's manifests in a temporary directory, so the repository's
 * examples/identity/.podsec is never written by tests. Loopback only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const bin = `${root}dist/cli/main.js`;
const example = join(root, 'examples/identity');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: node ${args.join(' ')}\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The state a user starts from: the example's manifests, nothing of podsec's. */
function freshState(into: string): string {
  const dir = join(into, 'identity');
  cpSync(example, dir, {
    recursive: true,
    filter: (src) => !src.includes('.podsec') && !src.endsWith('.mjs') && !src.endsWith('.md'),
  });
  return dir;
}

function assignments(state: string): string[] {
  const dir = join(state, '.podsec/objects/aadpodidentity.k8s.io_v1/AzureAssignedIdentity/orders');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

const EXPECTED = [
  /^ok {3}orders\/orders-api \(127\.0\.0\.10\) asks the NMI for api:\/\/orders-db: 200 token for aud=api:\/\/orders-db appid=3b9f6d2e-8c41-4a7e-b5d0-91c2e7a4f608 /m,
  /^ok {3}orders\/orders-api calls the orders API with it: 200 \{"caller":"orders-db-reader"/m,
  /^ok {3}orders\/orders-api calls the orders API with a token for api:\/\/billing: 401 .*aud/m,
  /^ok {3}orders\/reporting \(127\.0\.0\.11\) asks the NMI for api:\/\/orders-db: 403 .*No identity is assigned to pod orders\/reporting/m,
  /^ok {3}orders\/reporting asks for orders-api's identity by client_id: 403 /m,
  /^ok {3}orders\/reporting calls the orders API without a token: 401 /m,
  /^ok {3}billing-reader \(client credentials\) calls the orders API: 403 .*may not read orders/m,
  /^ok {3}the node \(127\.0\.0\.1\) asks the NMI for api:\/\/orders-db: 403 .*node itself/m,
];

describe.skipIf(!existsSync(bin))('examples/identity, run as a user runs it', () => {
  const work = mkdtempSync(join(tmpdir(), 'podsec-identity-example-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const state = freshState(work);

  it('demo.mjs: the bound pod is accepted, the unbound pod refused; everything stops cleanly', async () => {
    const r = await runNode(['examples/identity/demo.mjs', '--state', state, '--podsec', bin], 60_000);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stdout).toContain('podsec identity up: issuer, controller and NMI');
    for (const line of EXPECTED) expect(r.stdout).toMatch(line);
    expect(r.stdout).not.toMatch(/^FAIL/m);
    expect(r.stdout).toContain('demo: every outcome as expected');
    expect(r.code).toBe(0);
    // `identity up` stopped on SIGTERM with exit code 0 (the demo reports any other exit).
    expect(r.stdout).not.toContain('podsec identity up exited');
    // Nothing to warn about: the issuer saw the identity's Secret before judging the identity.
    expect(r.stderr).toBe('');
    // The token itself is never printed.
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    expect(assignments(state)).toEqual(['orders-api-orders-orders-db-reader.json']);
    // Stopped: the endpoints file is gone, the keys and the certificate stay for the next run.
    expect(existsSync(join(state, '.podsec/identity-up/endpoints.json'))).toBe(false);
    expect(readdirSync(join(state, '.podsec/identity-up')).sort()).toEqual(['keys', 'tls']);
  }, 70_000);

  it('a second run on the same state converges: same outcomes, still one assignment', async () => {
    const r = await runNode(['examples/identity/demo.mjs', '--state', state, '--podsec', bin], 60_000);
    expect(r.stdout).toContain('demo: every outcome as expected');
    expect(r.code).toBe(0);
    expect(assignments(state)).toEqual(['orders-api-orders-orders-db-reader.json']);
  }, 70_000);

  it('identity up refuses pods on several nodes without --node (exit 2, no stack trace)', async () => {
    const two = join(work, 'two-nodes');
    cpSync(state, two, { recursive: true, filter: (src) => !src.includes('.podsec') });
    writeFileSync(
      join(two, 'elsewhere.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: other, namespace: orders}\nspec: {nodeName: node-b, containers: [{name: c, image: x}]}\n',
    );
    const r = await runNode([bin, 'identity', 'up', '--state', two, '--nmi-port', '0'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'pods in the state directory run on 2 nodes (local, node-b): pass --node NAME',
    );
    expect(r.stderr).not.toContain('    at ');
  }, 40_000);

  it('the example manifests pass podsec scan at restricted', () => {
    const r = spawnSync(process.execPath, [bin, 'scan', '--level', 'restricted', example], {
      encoding: 'utf8',
    });
    expect(r.stdout).toContain('2 passed');
    expect(r.stdout).toContain('0 denied');
    expect(r.status).toBe(0);
  });
});
