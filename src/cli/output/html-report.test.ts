/**
 * The HTML report in a real browser: Debian's Chromium driven by playwright-core (nothing
 * downloads a browser). Skips loudly outside CI when /usr/bin/chromium is absent; fails in CI.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, openPage } from '../../../test/support/chromium.js';
import { compilePolicy, loadConfigText } from '../../policy/index.js';
import { runAudit } from '../../audit/run.js';
import { toAuditReport, type AuditReport } from '../../audit/report.js';
import { MemorySource } from '../../audit/testing/memory-source.js';
import { DEMO_CONFIG, demoCluster } from '../../audit/testing/demo-cluster.js';
import { esc, renderHtmlReport } from './html-report.js';

const inCi = process.env['CI'] === 'true';
if (!haveChromium && !inCi) {
  console.warn(`SKIPPING the HTML report browser check: ${CHROMIUM} is absent (apt-get install chromium)`);
}

async function demoReport(): Promise<AuditReport> {
  const loaded = loadConfigText(DEMO_CONFIG, 'demo.yaml');
  if ('error' in loaded) throw loaded.error;
  const outcome = await runAudit(
    { type: 'cluster', source: new MemorySource(demoCluster()) },
    { policy: compilePolicy(loaded.config) },
  );
  return toAuditReport(outcome);
}

const GENERATED = new Date('2026-05-01T12:00:00Z');

describe('renderHtmlReport (static)', () => {
  it('escapes every user-provided string', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('is self-contained and escapes names from the cluster', async () => {
    const html = renderHtmlReport(await demoReport(), { source: 'memory <x>', generatedAt: GENERATED });
    expect(html).not.toMatch(/<script|<link|src="http|href="http|@import|url\(/i);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('memory &lt;x&gt;');
  });
});

describe.skipIf(!haveChromium && !inCi)('renderHtmlReport in headless Chromium', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'podsec-html-'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('renders the counts, sections and no console errors; writes a screenshot', async () => {
    expect(haveChromium, `${CHROMIUM} must exist in CI`).toBe(true);
    const report = await demoReport();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(report, { source: 'directory ./demo', generatedAt: GENERATED }));
    const { browser, page, problems } = await openPage(join(dir, 'profile'), { width: 1280, height: 900 });
    try {
      await page.goto(`file://${file}`);
      const c = report.results.reduce<Record<string, number>>((acc, r) => {
        acc[r.status] = (acc[r.status] ?? 0) + 1;
        return acc;
      }, {});
      expect(await page.textContent('[data-count="denied"]')).toBe(String(c['denied'] ?? 0));
      expect(await page.textContent('[data-count="allowed"]')).toBe(String(c['allowed'] ?? 0));
      const text = await page.innerText('body');
      for (const heading of [
        'NAMESPACES',
        'CHECKS FAILING',
        'WORST OFFENDERS',
        'ASSIGNMENTS',
        'EXEMPTIONS',
      ]) {
        expect(text).toContain(heading);
      }
      expect(text).toContain('Istio init container programs iptables');
      expect(text).toContain('<img src=x onerror=alert(1)>'); // shown as text, not parsed as HTML
      expect(await page.locator('img').count()).toBe(0);
      const ring = await page.locator('svg.ring').boundingBox();
      expect(ring?.width ?? 0).toBeGreaterThan(100);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/audit-report.png', fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
