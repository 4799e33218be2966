/** JSON Schema validators for the committed schemas and SARIF 2.1.0 (from an npm package, no download). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));

function addFormats(ajv: Ajv): void {
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
}

export function resultSchemaValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(`${root}schemas/scan-result.schema.json`, 'utf8')) as object);
}

export function sarifValidator(): ValidateFunction {
  const pkgDir = require.resolve('@microsoft/jest-sarif/package.json').replace(/package\.json$/, '');
  const schema = JSON.parse(readFileSync(`${pkgDir}lib/schemas/sarif-2.1.0-rtm.5.json`, 'utf8')) as Record<
    string,
    unknown
  >;
  // The package ships the draft-04 text; its keywords are the same in draft-07 except the id spelling.
  delete schema['$schema'];
  delete schema['id'];
  // The schema's patterns are ECMAScript-without-u-flag regexes (e.g. `[^\\s]`-style escapes).
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}
