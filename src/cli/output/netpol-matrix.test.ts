/**
 * The matrix renderers on hand-made views: the JSON contract's shape, the table's layout (indices,
 * namespace blocks, loopback), and the HTML page in headless Chromium (skipped loudly outside CI
 * when /usr/bin/chromium is absent; failing in CI), with a screenshot in test-results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, openPage } from '../../../test/support/chromium.js';
import { matrixJson, renderMatrixTable, type MatrixPod, type MatrixView } from './netpol-matrix.js';
import { DETAILED_MAX, renderMatrixHtml } from './netpol-matrix-html.js';

const inCi = process.env['CI'] === 'true';
if (!haveChromium && !inCi) {
  console.warn(`SKIPPING the netpol matrix browser check: ${CHROMIUM} is absent (apt-get install chromium)`);
}

function pod(namespace: string, name: string, notes: MatrixPod['notes'] = []): MatrixPod {
  return { namespace, name, notes };
}

/** x/a is isolated for ingress except from x/b; y/b egress-isolated. */
function small(): MatrixView {
  const pods = [pod('x', 'a'), pod('x', 'b'), pod('y', 'a'), pod('y', 'b', ['hostNetwork'])];
  const allowed = pods.map((_, i) => pods.map((_, j) => i === j || j !== 0 || i === 1));
  return { pods, port: 80, protocol: 'TCP', allowed };
}

/** Dozens of pods over several namespaces, with a deterministic pattern. */
function big(): MatrixView {
  const pods: MatrixPod[] = [];
  const nss = ['default', 'kube-system', 'shop', 'payments-<prod>', 'monitoring'];
  nss.forEach((ns, k) => {
    for (let i = 0; i < 6 + k; i++) {
      pods.push(pod(ns, `${ns.slice(0, 4)}-worker-${i}`, i === 2 && k === 1 ? ['representative'] : []));
    }
  });
  const allowed = pods.map((from, i) =>
    pods.map(
      (to, j) =>
        i === j ||
        from.namespace === to.namespace ||
        (to.namespace !== 'payments-<prod>' && (i + j) % 7 !== 0),
    ),
  );
  return { pods, port: 8443, protocol: 'TCP', allowed };
}

describe('matrixJson', () => {
  it('keeps the contract fields first, indexed allowed[from][to]', () => {
    const json = matrixJson(small());
    expect(Object.keys(json).slice(0, 4)).toEqual(['pods', 'port', 'protocol', 'allowed']);
    expect(json.pods).toEqual(['x/a', 'x/b', 'y/a', 'y/b']);
    expect(json.allowed[2]![0]).toBe(false); // y/a -> x/a
    expect(json.allowed[1]![0]).toBe(true); // x/b -> x/a
    expect(json.notes).toEqual({ 'y/b': ['hostNetwork'] });
    expect(json.summary).toEqual({ pods: 4, pairs: 12, allowed: 10, denied: 2, ignored: {} });
  });
});

describe('renderMatrixTable', () => {
  it.each([
    ['header names port and counts', /^80\/TCP: 4 pods, 2 of 12 pairs denied$/m],
    ['namespace blocks over the columns', /^\s+x\s+y$/m],
    ['column indices with a gap between namespaces', /^\s+0 1 {3}2 3$/m],
    ['row x/a: self then allowed', /^x 0 a {9}- . {3}. \.$/m],
    ['row y/a denies x/a only', /^y 2 a {9}X \. {3}- \.$/m],
    ['notes are short in the row and spelled out below', /^ {2}3 b \(host\) {2}X \. {3}\. -$/m],
    ['note legend', /^ {2}3 y\/b: hostNetwork: node traffic/m],
  ])('%s', (_name, re) => {
    expect(renderMatrixTable(small())).toMatch(re);
  });

  it('pads indices for more than ten pods and colours only when asked', () => {
    const text = renderMatrixTable(big());
    expect(text).toMatch(/^\s+ 0 {2}1 {2}2/m);
    expect(text).not.toContain('\x1b[');
    expect(renderMatrixTable(big(), { color: true })).toContain('\x1b[31mX');
  });

  it('one pod per namespace: dense, without blocks or namespace headers', () => {
    const pods = ['a', 'b', 'c'].map((ns) => pod(ns, 'p'));
    const text = renderMatrixTable({
      pods,
      port: 80,
      protocol: 'TCP',
      allowed: pods.map(() => [true, true, true]),
    });
    expect(text).toMatch(/^ +0 1 2$/m);
    expect(text).toMatch(/^a 0 p {2}- \. \.\nb 1 p {2}\. - \.$/m);
  });

  it('says when there are no pods', () => {
    expect(renderMatrixTable({ pods: [], port: 53, protocol: 'UDP', allowed: [] })).toContain('no pods');
  });
});

describe('renderMatrixHtml (static)', () => {
  it('is self-contained and escapes names', () => {
    const html = renderMatrixHtml(big(), { source: 'dir <x>', generatedAt: new Date(0) });
    expect(html).not.toMatch(/<script|<link|src="http|href="http|@import|url\(/i);
    expect(html).toContain('payments-&lt;prod&gt;');
    expect(html).not.toContain('payments-<prod>');
    expect(html).toContain('dir &lt;x&gt;');
  });
});

describe('renderMatrixHtml size', () => {
  it('cells carry titles up to DETAILED_MAX pods, and are bare above', () => {
    const grid = (n: number): MatrixView => {
      const pods = Array.from({ length: n }, (_, i) => pod(`ns${i % 7}`, `p${i}`));
      return { pods, port: 80, protocol: 'TCP', allowed: pods.map(() => pods.map(() => true)) };
    };
    const opts = { source: 's', generatedAt: new Date(0) };
    expect(renderMatrixHtml(grid(DETAILED_MAX), opts)).toContain('title="ns0/p0 -&gt; ns0/p7: allowed"');
    const big = renderMatrixHtml(grid(DETAILED_MAX + 1), opts);
    expect(big).not.toMatch(/<td[^>]*title=/);
    expect(big).toContain('cells carry no hover titles');
  });
});

describe.skipIf(!haveChromium && !inCi)('renderMatrixHtml in headless Chromium', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'podsec-netpol-html-'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('shows the grid grouped by namespace with readable headers; writes a screenshot', async () => {
    expect(haveChromium, `${CHROMIUM} must exist in CI`).toBe(true);
    const view = big();
    const counts = matrixJson(view).summary;
    const file = join(dir, 'matrix.html');
    writeFileSync(file, renderMatrixHtml(view, { source: 'examples/demo', generatedAt: new Date(0) }));
    const { browser, page, problems } = await openPage(join(dir, 'profile'), { width: 1400, height: 1400 });
    try {
      await page.goto(`file://${file}`);
      expect(await page.textContent('[data-count="denied"]')).toBe(String(counts.denied));
      expect(await page.textContent('[data-count="allowed"]')).toBe(String(counts.allowed));
      expect(await page.locator('td.d').count()).toBe(counts.denied);
      expect(await page.locator('td.s').count()).toBe(view.pods.length);
      const text = await page.innerText('body');
      expect(text).toContain('payments-<prod>'); // shown as text
      // One header per namespace, in order, spanning its pods.
      const nsHeaders = await page.locator('tr.ns th[colspan]').allInnerTexts();
      expect(nsHeaders).toEqual(['default', 'kube-system', 'shop', 'payments-<prod>', 'monitoring']);
      // Cell colours: allowed green, denied red.
      // Typed by hand: the test is compiled without the DOM library.
      type Styled = { getComputedStyle(el: unknown): { backgroundColor: string } };
      const bg = (sel: string): Promise<string> =>
        page
          .locator(sel)
          .first()
          .evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).backgroundColor);
      expect(await bg('td.a')).toBe('rgb(63, 155, 107)');
      expect(await bg('td.d')).toBe('rgb(214, 69, 69)');
      // Vertical pod headers are tall enough to read and not wider than a cell.
      const head = await page.locator('tr.pods th').nth(3).boundingBox();
      const cell = await page.locator('td').nth(3).boundingBox();
      expect(head?.height ?? 0).toBeGreaterThan(60);
      expect(Math.abs((head?.width ?? 0) - (cell?.width ?? 0))).toBeLessThan(2);
      // The cell titles say who talks to whom.
      expect(await page.locator('td[data-from="0"][data-to="1"]').getAttribute('title')).toBe(
        'default/defa-worker-0 -> default/defa-worker-1: allowed',
      );
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/netpol-matrix.png', fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
