/**
 * A second client: Debian's python3-azure (azure.identity, /usr/bin/python3, NOT a pyenv python
 * on PATH) ManagedIdentityCredential against `podsec identity nmi` on 127.0.0.1. Pods are told
 * apart by source address, so the Python client binds to its pod's address (127.0.0.21-23). A
 * bound pod gets a token whose claims are right; an unbound caller gets a clear error; another
 * pod's client_id is refused. Skipped loudly when /usr/bin/python3 lacks azure.identity, failed
 * in CI (CI=true). SAFETY: the Python side refuses every non-loopback connect before
 * azure.identity loads and reports attempts (asserted empty); the authority host is set in its
 * environment before the credential exists (azure-identity 1.13 then skips its IMDS probe);
 * retries are off; the child gets a minimal environment without proxies or other MSI variables.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityNmi, type RunningNmi } from '../../src/cli/commands/identity-nmi.js';
import { verifyToken } from '../../src/identity/issuer/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { assignedIdentityYaml, managedIdentityYaml, runningPodYaml } from '../support/nmi-state-yaml.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'identity-python-client.py');
const TENANT = '00000000-0000-0000-0000-0000000000a1';
const ID_BOUND = '0000000c-cccc-4ccc-8ccc-00000000000c';
const ID_OTHER = '0000000d-dddd-4ddd-8ddd-00000000000d';
const IP_BOUND = '127.0.0.21';
const IP_UNBOUND = '127.0.0.22';
const IP_OTHER = '127.0.0.23';

function probePython(): { ok: boolean; why: string } {
  const r = spawnSync(PYTHON, ['-c', 'import azure.identity, sys; print(azure.identity.__version__)'], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', PYTHONNOUSERSITE: '1' },
    timeout: 20_000,
  });
  if (r.error !== undefined) return { ok: false, why: `${PYTHON} cannot run (${r.error.message})` };
  if (r.status !== 0)
    return { ok: false, why: `${PYTHON} has no azure.identity (${r.stderr.trim().split('\n').pop() ?? ''})` };
  return { ok: true, why: `azure.identity ${r.stdout.trim()}` };
}

const python = probePython();
const inCi = process.env['CI'] === 'true';

const identity = (name: string, clientID: string): string =>
  managedIdentityYaml({ name, clientID, tenantID: TENANT });
const pod = (name: string, ip: string): string => runningPodYaml({ name, node: 'local', ip });
const assigned = (podName: string, idName: string, clientID: string): string =>
  assignedIdentityYaml({ pod: podName, identity: idName, clientID, node: 'local' });

const STATE = [
  identity('reader', ID_BOUND),
  identity('writer', ID_OTHER),
  pod('bound', IP_BOUND),
  pod('unbound', IP_UNBOUND),
  pod('other', IP_OTHER),
  assigned('bound', 'reader', ID_BOUND),
  assigned('other', 'writer', ID_OTHER),
].join('---\n');

interface PyOutcome {
  ok: boolean;
  token?: string;
  expires_on?: number;
  type?: string;
  message?: string;
  blocked: string[];
}

describe('azure.identity (Debian python3-azure) ManagedIdentityCredential against the NMI', () => {
  if (!python.ok) {
    if (inCi) {
      it('python3-azure is installed (required in CI)', () => {
        expect.fail(`${python.why}: apt-get install python3-azure`);
      });
    } else {
      console.warn(`\n!!! Python azure.identity client test SKIPPED: ${python.why} !!!\n`);
      it.skip('python3-azure absent', () => {});
    }
    return;
  }

  let dir: string;
  let nmi: RunningNmi;
  let counter = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-nmi-python-'));
    await writeFile(join(dir, 'cluster.yaml'), STATE);
    nmi = await startIdentityNmi(
      {
        node: 'local',
        port: '0',
        listenAddress: '127.0.0.1',
        state: dir,
        tokenProvider: 'issuer-local',
        issuerUrl: 'https://issuer.podsec.test',
        logLevel: 'silent',
      },
      { logger: silentLogger(), syncTimeoutMs: 20_000 },
    );
  });

  afterAll(async () => {
    await nmi.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Async on purpose: the NMI answers from this same event loop. */
  async function runPython(sourceIp: string, scope: string, clientId?: string): Promise<PyOutcome> {
    const r = await new Promise<{ err: Error | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        PYTHON,
        [SCRIPT, scope, ...(clientId === undefined ? [] : [clientId])],
        {
          encoding: 'utf8',
          timeout: 30_000,
          // Minimal environment: no proxies, no IDENTITY_ENDPOINT/MSI_ENDPOINT/IMDS_ENDPOINT, no AZURE_CLIENT_ID.
          env: {
            PATH: '/usr/bin:/bin',
            HOME: dir,
            LANG: 'C.UTF-8',
            PYTHONNOUSERSITE: '1',
            NO_PROXY: '*',
            AZURE_POD_IDENTITY_AUTHORITY_HOST: nmi.url,
            PODSEC_SOURCE_IP: sourceIp,
          },
        },
        (err, stdout, stderr) => resolve({ err, stdout, stderr }),
      );
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let out: PyOutcome;
    try {
      out = JSON.parse(line) as PyOutcome;
    } catch {
      throw new Error(
        `the Python client printed no result (${r.err?.message ?? 'exit 0'}): ${r.stderr.slice(-2000)}`,
      );
    }
    expect(out.blocked).toEqual([]);
    return out;
  }

  function freshResource(): string {
    counter += 1;
    return `api://podsec-python-${process.pid}-${counter}`;
  }

  it('the Python guard refuses a non-loopback connect (TEST-NET, never IMDS)', async () => {
    const r = await new Promise<string>((resolve) => {
      execFile(
        PYTHON,
        [SCRIPT, '--guard-self-test'],
        { encoding: 'utf8', timeout: 20_000, env: { PATH: '/usr/bin:/bin' } },
        (_e, stdout) => resolve(stdout),
      );
    });
    expect(JSON.parse(r.trim())).toEqual({ ok: true, blocked: ['192.0.2.1'] });
  });

  it(`bound pod gets a token whose claims are right (${python.why})`, async () => {
    const resource = freshResource();
    const out = await runPython(IP_BOUND, `${resource}/.default`);
    expect(out).toMatchObject({ ok: true });
    const verified = await verifyToken(out.token ?? '', {
      issuer: nmi.issuer?.issuerFor(TENANT) ?? 'no in-process issuer',
      audience: resource,
      jwks: nmi.keys?.jwks() ?? { keys: [] },
    });
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    const c = verified.token.claims;
    expect(c.aud).toBe(resource);
    expect(c.appid).toBe(ID_BOUND);
    expect(c.azp).toBe(ID_BOUND);
    expect(c.tid).toBe(TENANT);
    expect(c.iss).toBe(`https://issuer.podsec.test/${TENANT}/v2.0`);
    expect(out.expires_on).toBe(c.exp);
  });

  it('bound pod asking by its own client_id', async () => {
    const resource = freshResource();
    const out = await runPython(IP_BOUND, `${resource}/.default`, ID_BOUND);
    expect(out.ok).toBe(true);
    const verified = await verifyToken(out.token ?? '', {
      issuer: nmi.issuer?.issuerFor(TENANT) ?? '',
      audience: resource,
      jwks: nmi.keys?.jwks() ?? { keys: [] },
    });
    expect(verified.ok && verified.token.claims.appid).toBe(ID_BOUND);
  });

  it('an unbound caller gets a clear error', async () => {
    const out = await runPython(IP_UNBOUND, `${freshResource()}/.default`);
    expect(out.ok).toBe(false);
    expect(out.type).toBe('ClientAuthenticationError');
    expect(out.message).toContain('No identity is assigned to pod apps/unbound');
  });

  it("another pod's client_id is refused", async () => {
    const out = await runPython(IP_BOUND, `${freshResource()}/.default`, ID_OTHER);
    expect(out.ok).toBe(false);
    expect(out.type).toBe('ClientAuthenticationError');
    expect(out.message).toContain('The requested identity is not assigned to pod apps/bound');
  });

  it('the other pod gets its own identity', async () => {
    const out = await runPython(IP_OTHER, `${freshResource()}/.default`, ID_OTHER);
    expect(out.ok).toBe(true);
  });
});
