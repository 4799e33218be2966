/**
 * kubernetesTokenReviewer loads the kubeconfig the way every podsec command does (cluster-source's
 * loader): an unknown --context or a missing configuration is a usage error at start-up, and the
 * API server's answers are read defensively (outcomeFromReview): a refusal or a malformed body is
 * "not authenticated", an unavailable API server a throw (never cached by the authenticator).
 * The API server is the fake one on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../../test/support/fake-apiserver.js';
import { UsageError } from '../../lib/errors.js';
import { kubernetesTokenReviewer, outcomeFromReview, type TokenReviewOutcome } from './token-review.js';

describe('outcomeFromReview', () => {
  const cases: [string, number, unknown, TokenReviewOutcome][] = [
    [
      'an authenticated review',
      201,
      {
        status: {
          authenticated: true,
          user: { username: 'system:serviceaccount:a:b', extra: { k: ['v'], bad: 'x' } },
          audiences: ['podsec-issuer', 7],
        },
      },
      {
        authenticated: true,
        username: 'system:serviceaccount:a:b',
        extra: { k: ['v'] },
        audiences: ['podsec-issuer'],
        error: undefined,
      },
    ],
    [
      'a refused token',
      201,
      { status: { authenticated: false, error: 'invalid bearer token' } },
      {
        authenticated: false,
        username: undefined,
        extra: {},
        audiences: undefined,
        error: 'invalid bearer token',
      },
    ],
    [
      '"true" as a string is not true',
      201,
      { status: { authenticated: 'true' } },
      { authenticated: false, username: undefined, extra: {}, audiences: undefined, error: undefined },
    ],
    [
      'a body that is not an object',
      200,
      'oops',
      { authenticated: false, username: undefined, extra: {}, audiences: undefined, error: undefined },
    ],
    [
      'the issuer may not create TokenReviews (403)',
      403,
      { message: 'tokenreviews.authentication.k8s.io is forbidden' },
      {
        authenticated: false,
        error: 'TokenReview answered 403: tokenreviews.authentication.k8s.io is forbidden',
      },
    ],
  ];
  it.each(cases)('%s', (_name, status, body, want) => {
    expect(outcomeFromReview(status, body)).toEqual(want);
  });
});

describe('kubernetesTokenReviewer', () => {
  let api: FakeApiServer;
  let dir: string;
  const audiencesSeen: string[][] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podsec-tokenreview-kc-'));
    api = await startFakeApiServer({
      tokenReview: (spec) => {
        audiencesSeen.push(spec.audiences ?? []);
        return spec.token === 'good'
          ? { authenticated: true, user: { username: 'u' }, audiences: spec.audiences ?? [] }
          : { authenticated: false, error: 'invalid bearer token' };
      },
    });
  });
  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reviews through --kubeconfig and a named --context', async () => {
    const review = await kubernetesTokenReviewer({
      kubeconfig: await api.writeKubeconfig({ contextName: 'lab' }),
      context: 'lab',
    });
    expect(await review('good', ['podsec-issuer'])).toMatchObject({
      authenticated: true,
      username: 'u',
      audiences: ['podsec-issuer'],
    });
    expect(await review('bad', ['podsec-issuer'])).toMatchObject({
      authenticated: false,
      error: 'invalid bearer token',
    });
    expect(audiencesSeen.at(-1)).toEqual(['podsec-issuer']);
  });

  it('an unknown --context is a usage error at start-up', async () => {
    const kubeconfig = await api.writeKubeconfig();
    await expect(kubernetesTokenReviewer({ kubeconfig, context: 'nope' })).rejects.toThrow(UsageError);
    await expect(kubernetesTokenReviewer({ kubeconfig, context: 'nope' })).rejects.toThrow(
      /no context named "nope"/,
    );
  });

  it('a stopped API server is a throw (the authenticator answers "unavailable" and asks again)', async () => {
    const gone = await startFakeApiServer({ tokenReview: () => ({ authenticated: true }) });
    const review = await kubernetesTokenReviewer({ kubeconfig: await gone.writeKubeconfig() });
    await gone.close();
    await expect(review('good', ['podsec-issuer'])).rejects.toThrow(/cannot reach the API server/);
  });

  it('an API server without TokenReview answers "not authenticated" with its status', async () => {
    const without = await startFakeApiServer();
    try {
      const review = await kubernetesTokenReviewer({ kubeconfig: await without.writeKubeconfig() });
      expect(await review('good', ['podsec-issuer'])).toMatchObject({
        authenticated: false,
        error: expect.stringMatching(/^TokenReview answered 404/) as unknown,
      });
    } finally {
      await without.close();
    }
  });
});
