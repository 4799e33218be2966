/**
 * Writing large reports without building one giant string: V8 caps a string at ~512 MB and a
 * 50 MB manifest can yield more report than that. Output is produced in chunks, batched, and
 * written with backpressure (waiting for 'drain'), so memory stays near the size of one batch.
 */

const BATCH_BYTES = 64 * 1024;

export async function writeChunks(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  let batch = '';
  const flush = async (): Promise<void> => {
    if (batch === '') return;
    const ok = stream.write(batch);
    batch = '';
    if (!ok) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  };
  for (const chunk of chunks) {
    batch += chunk;
    if (batch.length >= BATCH_BYTES) await flush();
  }
  await flush();
}

const PLACEHOLDER = '\u0000streamed\u0000';

/**
 * Yields the text of `JSON.stringify(value, null, 2)` in pieces, with the array at `value[key]`
 * (or `value.runs[0][key]`-style nested, via `holder`) streamed item by item.
 * `holder` is the object that owns the streamed key, somewhere inside `value`.
 */
export function* jsonChunks(
  value: object,
  holder: Record<string, unknown>,
  key: string,
  items: Iterable<unknown>,
): Generator<string> {
  const saved = holder[key];
  holder[key] = PLACEHOLDER;
  let text: string;
  try {
    text = JSON.stringify(value, null, 2);
  } finally {
    holder[key] = saved;
  }
  const marker = `${JSON.stringify(key)}: ${JSON.stringify(PLACEHOLDER)}`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`jsonChunks: key ${key} not found in the value`);
  const lineStart = text.lastIndexOf('\n', at) + 1;
  const indent = text.slice(lineStart, at);
  const itemIndent = `${indent}  `;
  yield `${text.slice(0, at)}${JSON.stringify(key)}: [`;
  let first = true;
  for (const item of items) {
    const body = JSON.stringify(item, null, 2).replace(/\n/g, `\n${itemIndent}`);
    yield `${first ? '' : ','}\n${itemIndent}${body}`;
    first = false;
  }
  yield `${first ? '' : `\n${indent}`}]${text.slice(at + marker.length)}\n`;
}
