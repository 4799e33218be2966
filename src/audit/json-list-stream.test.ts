import { describe, expect, it } from 'vitest';
import { JsonListSplitter, readJsonList, type ListEvent } from './json-list-stream.js';

function split(text: string, chunkSize = text.length): ListEvent[] {
  const s = new JsonListSplitter();
  const buf = Buffer.from(text);
  const out: ListEvent[] = [];
  for (let i = 0; i < buf.length; i += Math.max(1, chunkSize))
    out.push(...s.push(buf.subarray(i, i + chunkSize)));
  out.push(...s.end());
  return out;
}

const items = (events: ListEvent[]) => events.filter((e) => e.type === 'item').map((e) => e.value);
const errors = (events: ListEvent[]) => events.filter((e) => e.type === 'error');

const LIST = JSON.stringify(
  {
    apiVersion: 'v1',
    kind: 'List',
    metadata: { resourceVersion: '' },
    items: [
      { kind: 'Pod', metadata: { name: 'a', annotations: { x: 'has "quotes" and } braces ]' } } },
      { kind: 'Pod', metadata: { name: 'b\\c' }, spec: { containers: [{ name: 'x' }] } },
      { kind: 'Deployment', metadata: { name: 'é-unicode' } },
    ],
  },
  null,
  4,
);

describe('JsonListSplitter', () => {
  const cases: { name: string; chunk: number }[] = [
    { name: 'whole input in one chunk', chunk: LIST.length },
    { name: 'one byte at a time', chunk: 1 },
    { name: 'odd chunk size that splits strings and escapes', chunk: 7 },
  ];
  for (const c of cases) {
    it(`reads every item of a List: ${c.name}`, () => {
      const events = split(LIST, c.chunk);
      expect(errors(events)).toEqual([]);
      expect(items(events)).toEqual(JSON.parse(LIST).items);
    });
  }

  it('gives each item the line where it starts', () => {
    const lines = split(LIST)
      .filter((e) => e.type === 'item')
      .map((e) => (e as { line: number }).line);
    const text = LIST.split('\n');
    for (const l of lines) expect(text[l - 1]?.trim()).toBe('{');
    expect(lines[0]).toBeLessThan(lines[1]!);
  });

  it('reads a top-level array like items, and one object as one item', () => {
    expect(items(split('[{"kind":"Pod"}, {"kind":"Service"}]'))).toEqual([
      { kind: 'Pod' },
      { kind: 'Service' },
    ]);
    const one = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } };
    expect(items(split(JSON.stringify(one, null, 2), 5))).toEqual([one]);
  });

  it('keeps the items before a truncated end and says where the cut is', () => {
    const cut = LIST.slice(0, LIST.indexOf('"Deployment"') + 5);
    const events = split(cut, 13);
    expect(items(events)).toHaveLength(2);
    const [err] = errors(events);
    expect(err).toMatchObject({ type: 'error', line: cut.split('\n').length });
    expect((err as { message: string }).message).toMatch(
      /unexpected end of JSON input: item 3 .* 2 complete items/,
    );
  });

  it('reports a broken item with its file position and keeps the others', () => {
    const broken = LIST.replace('"name": "b\\\\c"', '"name": b-unquoted');
    expect(broken).not.toBe(LIST);
    const events = split(broken, 16);
    expect(items(events).map((i) => (i as { metadata: { name: string } }).metadata.name)).toEqual([
      'a',
      'é-unicode',
    ]);
    const [err] = errors(events);
    const lineOfError = broken.split('\n').findIndex((l) => l.includes('b-unquoted')) + 1;
    expect(err).toMatchObject({ type: 'error', line: lineOfError });
    expect((err as { message: string }).message).toMatch(/^item 2: /);
  });

  it('rejects input that is not JSON, empty input and trailing garbage', () => {
    expect(errors(split('apiVersion: v1\nkind: List'))[0]).toMatchObject({ line: 1, column: 1 });
    expect(errors(split('   '))[0]).toMatchObject({ message: 'empty input: no JSON document' });
    const trailing = split('{"items":[{"a":1}]}\n}');
    expect(items(trailing)).toEqual([{ a: 1 }]);
    expect(errors(trailing)[0]).toMatchObject({ line: 2, column: 1 });
  });

  it('streams from an async iterable', async () => {
    async function* chunks() {
      yield await Promise.resolve(Buffer.from('{"items": [{"a"'));
      yield Buffer.from(': 1}, {"b": 2}]}');
    }
    const out: ListEvent[] = [];
    for await (const e of readJsonList(chunks())) out.push(e);
    expect(items(out)).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
