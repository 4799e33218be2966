/** docs/parameters.md is generated: the committed file must equal the rendered (and prettier-formatted) text. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { PARAMETERS } from './parameters.js';
import { renderParametersDoc } from './render-docs.js';

const DOC = fileURLToPath(new URL('../../../docs/parameters.md', import.meta.url));

async function formatted(): Promise<string> {
  const options = (await prettier.resolveConfig(DOC)) ?? {};
  return prettier.format(renderParametersDoc(), { ...options, parser: 'markdown' });
}

describe('docs/parameters.md', () => {
  it('equals the text rendered from PARAMETERS (UPDATE_DOCS=1 rewrites it)', async () => {
    const want = await formatted();
    if (process.env['UPDATE_DOCS'] === '1') writeFileSync(DOC, want);
    expect(readFileSync(DOC, 'utf8')).toBe(want);
  });

  it('documents every parameter with its aliases, checks and a row per initiative', () => {
    const text = renderParametersDoc();
    for (const p of PARAMETERS) {
      expect(text).toContain(`### ${p.name}\n`);
      for (const c of p.checks) expect(text).toContain(`\`${c}\``);
    }
    expect(text).toContain('| azure-baseline | `["CHOWN","DAC_OVERRIDE","FSETID","FOWNER","MKNOD","NET_RAW"');
    expect(text).toContain('| azure-restricted | `{"ranges":[{"min":1,"max":65535}]}` |');
    expect(text).toContain('| [allowHostNetwork](#allowhostnetwork) | hostNetwork | hostNamespaces |');
  });
});
