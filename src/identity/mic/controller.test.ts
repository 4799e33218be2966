/**
 * The MIC loop end to end in process, on the directory ClusterSource: an assignment appears for a
 * matching pod (stored under DIR/.podsec), disappears when the pod is relabelled, and invalid
 * resources are reported without their secrets. Convergence times are printed, never asserted.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createDirectorySource, stateFileOf } from '../../kube/cluster-source/directory.js';
import type { ClusterSource } from '../../kube/cluster-source/types.js';
import type { KubeObject } from '../../kube/types.js';
import { createLogger } from '../../observability/logger.js';
import { eventually } from '../../../test/support/eventually.js';
import { appPod, spBinding, spIdentity } from '../../../test/support/mic-objects.js';
import { MIC_KINDS, runController } from './controller.js';
import { assignedIdentityName } from './reconcile.js';

const podObj = (label: string): KubeObject => appPod('web', 'n1', label);
const identity = spIdentity('sp-secret');
const binding = spBinding;

describe('runController on a directory source', () => {
  let dir: string;
  let source: ClusterSource;
  let stop: AbortController;
  let running: Promise<void>;
  let logs: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-mic-'));
    logs = [];
  });
  afterEach(async () => {
    stop.abort();
    await running;
    await source.close();
    await rm(dir, { recursive: true, force: true });
  });

  function start(): void {
    source = createDirectorySource(dir, { pollIntervalMs: 100 });
    stop = new AbortController();
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb): void {
        logs.push(chunk.toString());
        cb();
      },
    });
    running = runController({
      source,
      signal: stop.signal,
      log: createLogger({ level: 'debug', destination }),
      debounceMs: 20,
      retryMs: 100,
    });
  }

  it('assigns a matching pod its identity, then removes the assignment when the pod is relabelled', async () => {
    await writeFile(
      join(dir, 'all.yaml'),
      [podObj('x'), identity, binding].map((o) => stringify(o)).join('---\n'),
    );
    const t0 = Date.now();
    start();
    const name = assignedIdentityName('web', 'app', 'sp');
    const ref = { ...MIC_KINDS.assigned, namespace: 'app', name };
    const assigned = await eventually(async () => {
      const got = (await source.get(ref)) as { status?: { status?: string } } | undefined;
      return got?.status?.status === 'Assigned' ? got : undefined;
    });
    const assignMs = Date.now() - t0;
    expect(assigned).toMatchObject({
      spec: {
        pod: 'web',
        podNamespace: 'app',
        nodename: 'n1',
        azureIdentityRef: { metadata: { name: 'sp' } },
      },
    });
    await access(join(dir, stateFileOf(ref)));

    const current = await source.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'app', name: 'web' });
    expect(current).toBeDefined();
    const t1 = Date.now();
    await source.update({
      ...current!,
      metadata: { ...current!.metadata, labels: { aadpodidbinding: 'other' } },
    });
    await eventually(async () => ((await source.get(ref)) === undefined ? true : undefined));
    const removeMs = Date.now() - t1;
    console.log(
      `MIC convergence (directory source): assign ${assignMs} ms, remove after relabel ${removeMs} ms`,
    );
  });

  it('logs an invalid identity by kind, name and problem, without its content', async () => {
    const bad = { ...identity, spec: { type: 7, clientID: 'c', tenantID: 't', password: 'hunter2' } };
    await writeFile(
      join(dir, 'bad.yaml'),
      [podObj('x'), bad, binding].map((o) => stringify(o)).join('---\n'),
    );
    start();
    const line = await eventually(async () =>
      Promise.resolve(logs.find((l) => l.includes('invalid resource ignored'))),
    );
    expect(JSON.parse(line)).toMatchObject({ kind: 'AzureIdentity', namespace: 'app', name: 'sp' });
    expect(logs.join('')).not.toContain('hunter2');
    const ref = { ...MIC_KINDS.assigned, namespace: 'app', name: assignedIdentityName('web', 'app', 'sp') };
    expect(await source.get(ref)).toBeUndefined();
  });

  it("an AzureIdentity copying another namespace's client id: no assignment for either, and the log says why", async () => {
    const copy = { ...identity, metadata: { name: 'copy', namespace: 'evil' } };
    const thief = {
      ...podObj('steal'),
      metadata: { name: 'thief', namespace: 'evil', labels: { aadpodidbinding: 'steal' } },
    };
    const evilBinding = {
      ...binding,
      metadata: { name: 'steal', namespace: 'evil' },
      spec: { azureIdentity: 'copy', selector: 'steal' },
    };
    await writeFile(
      join(dir, 'dup.yaml'),
      [podObj('x'), identity, binding, thief, copy, evilBinding].map((o) => stringify(o)).join('---\n'),
    );
    start();
    const lines = await eventually(async () => {
      const found = logs.filter((l) => l.includes('invalid resource ignored'));
      return Promise.resolve(found.length >= 2 ? found : undefined);
    });
    const parsed = lines.map((l) => JSON.parse(l) as { namespace: string; name: string; problems: string[] });
    expect(parsed.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(['app/sp', 'evil/copy']);
    for (const p of parsed) {
      expect(p.problems).toEqual([
        'spec.clientID: client id sp-client is claimed by more than one AzureIdentity (app/sp, evil/copy); none of them is usable until only one remains',
      ]);
    }
    for (const [ns, pod, id] of [
      ['app', 'web', 'sp'],
      ['evil', 'thief', 'copy'],
    ] as const) {
      const ref = { ...MIC_KINDS.assigned, namespace: ns, name: assignedIdentityName(pod, ns, id) };
      expect(await source.get(ref)).toBeUndefined();
    }
  });
});
