/**
 * `podsec identity nmi` against an API server (the list/watch test server on loopback) that does
 * not serve one of the aad-pod-identity kinds: without the exceptions CRD it starts and serves;
 * without a required CRD it stops at once with a usage error (exit 2) naming the CRD, instead of
 * hanging until the 60 s sync timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCliForStderr } from '../../../test/support/cli-stderr.js';
import { pino, type Logger } from 'pino';
import { startFakeApiServer, type FakeApiServer } from '../../../test/support/fake-apiserver.js';
import { createApiServerSource } from '../../kube/cluster-source/api-server.js';
import { KindNotServedError } from '../../identity/served-kinds.js';
import { startIdentityNmi, type IdentityNmiOptions, type RunningNmi } from './identity-nmi.js';

const G = 'aadpodidentity.k8s.io/v1';

let fake: FakeApiServer | undefined;
let running: RunningNmi | undefined;
afterEach(async () => {
  await running?.stop();
  await fake?.close();
  running = undefined;
  fake = undefined;
});

const OPTIONS: IdentityNmiOptions = {
  node: 'n1',
  port: '0',
  listenAddress: '127.0.0.1',
  tokenProvider: 'issuer-local',
  issuerUrl: 'https://issuer.podsec.test',
  logLevel: 'silent',
};

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

async function start(without: string[], log: Logger): Promise<RunningNmi> {
  fake = await startFakeApiServer({ without: without.map((k) => `${G}/${k}`) });
  const kubeconfig = await fake.writeKubeconfig();
  return startIdentityNmi(OPTIONS, {
    logger: log,
    // Far above the test's run time: reaching it would mean the NMI waited for a missing CRD.
    syncTimeoutMs: 30_000,
    openSource: () =>
      createApiServerSource({ kubeconfig, backoffInitialMs: 20, backoffMaxMs: 100, watchTimeoutSeconds: 30 }),
  });
}

describe('podsec identity nmi: CRDs the API server does not serve', () => {
  it('without AzurePodIdentityException: starts, serves, and warns once naming the CRD', async () => {
    const { log, lines } = capture();
    running = await start(['AzurePodIdentityException'], log);
    const res = await fetch(`${running.url}/healthz`);
    expect(res.status).toBe(200);
    const warnings = lines.filter((l) => l['level'] === 40 && String(l['msg']).includes('does not serve'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.['msg'])).toContain('azurepodidentityexceptions.aadpodidentity.k8s.io');
    expect(String(warnings[0]?.['msg'])).toContain('deploy/identity');
  });

  const required: { name: string; without: string[]; names: string[] }[] = [
    {
      name: 'without AzureAssignedIdentity',
      without: ['AzureAssignedIdentity'],
      names: ['azureassignedidentities.aadpodidentity.k8s.io'],
    },
    {
      name: 'without AzureIdentity',
      without: ['AzureIdentity'],
      names: ['azureidentities.aadpodidentity.k8s.io'],
    },
    {
      name: 'without any CRD',
      without: [
        'AzureIdentity',
        'AzureIdentityBinding',
        'AzureAssignedIdentity',
        'AzurePodIdentityException',
      ],
      names: ['azureidentities.aadpodidentity.k8s.io', 'azureassignedidentities.aadpodidentity.k8s.io'],
    },
  ];
  for (const c of required) {
    it(`${c.name}: fails fast with a usage error naming the CRD`, async () => {
      const { log } = capture();
      const err = await start(c.without, log).then(
        (nmi) => {
          running = nmi;
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KindNotServedError);
      for (const n of c.names) expect((err as Error).message).toContain(n);
      expect((err as Error).message).toContain('kubectl apply -k deploy/identity');
    });
  }

  it('the command exits 2 with the message on stderr', async () => {
    fake = await startFakeApiServer({ without: [`${G}/AzureAssignedIdentity`] });
    const kubeconfig = await fake.writeKubeconfig();
    const { code, stderr } = await runCliForStderr([
      'identity',
      'nmi',
      '--node',
      'n1',
      '--port',
      '0',
      '--listen-address',
      '127.0.0.1',
      '--kubeconfig',
      kubeconfig,
      '--log-level',
      'silent',
      '--imds-address',
      'none',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('azureassignedidentities.aadpodidentity.k8s.io');
  });
});
