/**
 * The identity registration in deploy/identity: AzureIdentity, AzureIdentityBinding and
 * AzurePodIdentityException CREATE/UPDATE go to deploy/base's webhook Service, fail closed,
 * carry the labels `podsec certs --patch-webhooks` and the install order select on, and take a
 * caBundle from `podsec certs --inject`; the webhook's RBAC lets it list and watch
 * AzureIdentities and nothing more of that group.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { injectCaBundle } from '../../src/cli/commands/certs.js';
import { find, kubectlSuiteRuns, render, renderObjects, type K8sObject } from './kustomize.js';

const get = <T>(o: unknown, ...path: (string | number)[]): T => {
  let cur: unknown = o;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur as T;
};

describe.runIf(kubectlSuiteRuns('deploy/identity registration'))(
  'deploy/identity: the identity registration',
  () => {
    const registration = (): K8sObject =>
      find(renderObjects('deploy/identity'), 'ValidatingWebhookConfiguration', 'podsec-identity');

    it('sends the three identity kinds (CREATE, UPDATE) to the podsec webhook, failing closed', () => {
      const vwc = registration();
      expect(vwc.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'podsec',
        'podsec.io/registration': 'true',
        'app.kubernetes.io/part-of': 'podsec',
      });
      const webhooks = get<Record<string, unknown>[]>(vwc, 'webhooks');
      expect(webhooks).toHaveLength(1);
      expect(webhooks[0]).toEqual({
        name: 'identity.podsec.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        timeoutSeconds: 5,
        clientConfig: {
          service: { name: 'podsec-webhook', namespace: 'podsec-system', path: '/validate', port: 443 },
        },
        rules: [
          {
            apiGroups: ['aadpodidentity.k8s.io'],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['azureidentities', 'azureidentitybindings', 'azurepodidentityexceptions'],
            scope: 'Namespaced',
          },
        ],
      });
    });

    it('points at the Service and port deploy/base serves, whose webhook may list and watch AzureIdentities', () => {
      const base = renderObjects('deploy/base');
      const svc = find(base, 'Service', 'podsec-webhook');
      expect(svc.metadata.namespace).toBe('podsec-system');
      expect(get<{ port: number }[]>(svc, 'spec', 'ports').map((p) => p.port)).toContain(443);
      const rules = get<{ apiGroups: string[]; resources: string[]; verbs: string[] }[]>(
        find(base, 'ClusterRole', 'podsec-webhook'),
        'rules',
      );
      expect(rules.filter((r) => r.apiGroups.includes('aadpodidentity.k8s.io'))).toEqual([
        { apiGroups: ['aadpodidentity.k8s.io'], resources: ['azureidentities'], verbs: ['list', 'watch'] },
      ]);
    });

    it('podsec certs --inject fills its caBundle in the rendered file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'podsec-identity-webhook-'));
      try {
        const file = join(dir, 'identity.yaml');
        writeFileSync(file, render('deploy/identity'));
        const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString(
          'base64',
        );
        expect(await injectCaBundle(file, ca, 'podsec-webhook', 'podsec-system')).toBe(1);
        const vwc = parseAllDocuments(readFileSync(file, 'utf8'))
          .map((d) => d.toJS() as K8sObject | null)
          .find((o) => o?.kind === 'ValidatingWebhookConfiguration');
        expect(get<string>(vwc, 'webhooks', 0, 'clientConfig', 'caBundle')).toBe(ca);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
