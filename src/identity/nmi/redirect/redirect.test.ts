/**
 * The redirect life cycle over a scripted fake `nft`/`conntrack` (no kernel here; the real
 * kernel path is test/integration/identity-netns.test.ts): mode switches, conntrack outcomes,
 * drift detection and restore with its metric, cleanup, and the clear errors for a missing nft
 * or a missing CAP_NET_ADMIN.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../observability/index.js';
import { RedirectError } from './errors.js';
import { ImdsRedirect, removeRedirect } from './redirect.js';
import { validateRedirectConfig, type RedirectConfig } from './rules.js';
import { spawnExec, type Exec, type ExecResult } from './runner.js';

function cfg(): RedirectConfig {
  const r = validateRedirectConfig({ podInterfaces: ['vp*'], targetAddress: '10.9.0.1', targetPort: 2579 });
  if (!r.ok) throw new Error('bad config');
  return r.config;
}

/** A tiny stand-in kernel: it remembers the last applied script as "the table". */
class FakeNft {
  table: string | undefined;
  calls: { file: string; args: readonly string[]; stdin?: string | undefined }[] = [];
  conntrack: ExecResult | 'missing' = { code: 1, stdout: '', stderr: '0 flow entries have been deleted.\n' };
  nft: 'ok' | 'missing' | 'eperm' = 'ok';

  exec: Exec = (file, args, stdin) => {
    this.calls.push({ file, args, stdin });
    const enoent = Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
    if (file === 'conntrack') {
      if (this.conntrack === 'missing') return Promise.reject(enoent);
      return Promise.resolve(this.conntrack);
    }
    if (this.nft === 'missing') return Promise.reject(enoent);
    if (this.nft === 'eperm') {
      return Promise.resolve({
        code: 1,
        stdout: '',
        stderr: 'Error: Could not process rule: Operation not permitted\n',
      });
    }
    if (args[0] === '-f') {
      const s = stdin ?? '';
      this.table = s.includes('{') ? s.slice(s.indexOf('table ip podsec-nmi {')) : undefined;
      return Promise.resolve({ code: 0, stdout: '', stderr: '' });
    }
    if (args[0] === 'list') {
      return Promise.resolve(
        this.table === undefined
          ? { code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table ip podsec-nmi\n' }
          : { code: 0, stdout: this.table, stderr: '' },
      );
    }
    return Promise.resolve({ code: 2, stdout: '', stderr: 'unexpected' });
  };
}

function make(fake: FakeNft, registry?: Registry): ImdsRedirect {
  return new ImdsRedirect({
    config: cfg(),
    logger: silentLogger(),
    exec: fake.exec,
    intervalMs: 0,
    registry,
  });
}

describe('ImdsRedirect', () => {
  it('fails closed first, then redirects and flushes conntrack (0 entries is fine)', async () => {
    const fake = new FakeNft();
    const r = make(fake);
    await r.failClosed();
    expect(r.mode).toBe('reject');
    expect(fake.table).toContain('reject with tcp reset');
    expect(fake.table).not.toContain('dnat');
    await r.install();
    expect(r.mode).toBe('redirect');
    expect(fake.table).toContain('dnat to 10.9.0.1:2579');
    const ct = fake.calls.filter((c) => c.file === 'conntrack');
    expect(ct).toHaveLength(1);
    expect(ct[0]!.args).toContain('169.254.169.254');
  });

  it('on exit the DNAT is replaced by the reject form', async () => {
    const fake = new FakeNft();
    const r = make(fake);
    await r.install();
    await r.failClosed();
    expect(fake.table).not.toContain('dnat');
    expect(fake.table).toContain('imds-reject-forward');
  });

  const conntrackCases: { name: string; result: ExecResult | 'missing' }[] = [
    { name: 'deleted some', result: { code: 0, stdout: '', stderr: '3 flow entries have been deleted.\n' } },
    { name: 'conntrack not installed', result: 'missing' },
    { name: 'conntrack refused', result: { code: 1, stdout: '', stderr: 'Operation not permitted\n' } },
  ];
  for (const c of conntrackCases) {
    it(`conntrack outcome never blocks the install: ${c.name}`, async () => {
      const fake = new FakeNft();
      fake.conntrack = c.result;
      const r = make(fake);
      await r.install();
      expect(fake.table).toContain('dnat');
    });
  }

  it('re-assert: unchanged is ok; deleted or edited is reinstalled and counted', async () => {
    const fake = new FakeNft();
    const registry = new Registry();
    const r = make(fake, registry);
    await r.install();
    expect(await r.reassert()).toBe('ok');
    fake.table = undefined;
    expect(await r.reassert()).toBe('restored');
    expect(fake.table).toContain('dnat');
    fake.table = fake.table!.replace('dnat to 10.9.0.1:2579', 'accept');
    expect(await r.reassert()).toBe('restored');
    expect(fake.table).toContain('dnat to 10.9.0.1:2579');
    expect(await registry.metrics()).toMatch(/podsec_nmi_redirect_restored_total 2/);
  });

  it('re-asserts the reject form after exit, never the DNAT', async () => {
    const fake = new FakeNft();
    const r = make(fake);
    await r.install();
    await r.failClosed();
    fake.table = undefined;
    expect(await r.reassert()).toBe('restored');
    expect(fake.table).not.toContain('dnat');
  });

  const faults: { name: string; nft: 'missing' | 'eperm'; reason: string; hint: RegExp }[] = [
    { name: 'nft missing', nft: 'missing', reason: 'nft-missing', hint: /install nftables/ },
    { name: 'no CAP_NET_ADMIN', nft: 'eperm', reason: 'permission', hint: /NET_ADMIN/ },
  ];
  for (const c of faults) {
    it(`clear error: ${c.name}`, async () => {
      const fake = new FakeNft();
      fake.nft = c.nft;
      const err: unknown = await make(fake)
        .failClosed()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(RedirectError);
      expect((err as RedirectError).reason).toBe(c.reason);
      expect((err as RedirectError).hint).toMatch(c.hint);
    });
  }
});

describe('removeRedirect', () => {
  it('deletes the podsec table, and an absent table is fine', async () => {
    const fake = new FakeNft();
    await make(fake).install();
    expect(await removeRedirect(fake.exec)).toBe('removed');
    expect(fake.table).toBeUndefined();
    expect(await removeRedirect(fake.exec)).toBe('absent');
    const scripts = fake.calls.filter((c) => c.args[0] === '-f').map((c) => c.stdin);
    expect(scripts.at(-1)).toBe('table ip podsec-nmi\ndelete table ip podsec-nmi\n');
  });
});

describe('spawnExec', () => {
  it('passes stdin and returns exit code, stdout and stderr (no shell involved)', async () => {
    const r = await spawnExec('sh', ['-c', 'cat; echo oops >&2; exit 3'], 'table ip podsec-nmi\n');
    expect(r).toEqual({ code: 3, stdout: 'table ip podsec-nmi\n', stderr: 'oops\n' });
  });

  it('a missing program rejects with ENOENT', async () => {
    const err: unknown = await spawnExec('podsec-no-such-program', []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
