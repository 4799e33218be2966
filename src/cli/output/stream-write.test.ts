import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonChunks, writeChunks } from './stream-write.js';

describe('jsonChunks', () => {
  it.each([
    ['top-level array', { a: 1, results: [{ x: [1, 2] }, { y: 'z' }], b: { c: true } }],
    ['empty array', { results: [], after: 1 }],
    ['one item', { before: 'x', results: [null] }],
  ])('streams %s exactly as JSON.stringify(value, null, 2) prints it', (_name, value) => {
    const text = [...jsonChunks(value, value, 'results', value.results)].join('');
    expect(text).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('streams a nested array', () => {
    const run: Record<string, unknown> = { tool: 't', results: [{ r: 1 }, { r: 2 }] };
    const log = { version: '2.1.0', runs: [run] };
    const text = [...jsonChunks(log, run, 'results', run['results'] as unknown[])].join('');
    expect(text).toBe(`${JSON.stringify(log, null, 2)}\n`);
  });
});

describe('writeChunks', () => {
  it('waits for drain on a slow stream and writes everything in order', async () => {
    let out = '';
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        setImmediate(done);
      },
    });
    const chunks = Array.from({ length: 2000 }, (_, i) => `${i},`.repeat(50));
    await writeChunks(slow, chunks);
    expect(out).toBe(chunks.join(''));
  });
});
