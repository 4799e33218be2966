/** findNestingOverflow: what counts as a level and what is skipped (quotes, comments, block scalars). */
import { describe, expect, it } from 'vitest';
import { findNestingOverflow } from './nesting.js';

describe('findNestingOverflow (limit 3)', () => {
  it.each([
    { name: 'flat mapping', text: 'a: 1\nb: 2\n', at: -1 },
    { name: 'three block levels', text: 'a:\n  b:\n    c: 1\n', at: -1 },
    { name: 'four block levels', text: 'a:\n  b:\n    c:\n      d: 1\n', at: 'd: 1' },
    { name: 'dedent pops levels', text: 'a:\n  b:\n    c: 1\n  e:\n    f: 1\nz:\n  y:\n    x: 1\n', at: -1 },
    { name: 'flow levels add to the block level', text: 'a: [[1]]\nb: [[[1]]]\n', at: '[1]]]' },
    { name: 'flow across lines', text: 'a: [\n  [\n    1]]\n', at: -1 },
    { name: 'flow across lines, too deep', text: 'a: [\n  [\n    [1]]]\n', at: '[1]]]' },
    { name: 'brackets after a colon inside a plain scalar', text: 'a: x:y[[[[\n', at: -1 },
    { name: 'flow mapping values', text: 'a: {b: {c: 1}}\nd: {e: {f: [1]}}\n', at: '[1]' },
    { name: 'quote after a plain start is text', text: "a: it's [[[[ ok\n", at: -1 },
    { name: 'sequence markers on one line', text: '- - - - x\n', at: '- - - - x' },
    { name: 'brackets in double quotes', text: 'a: "[[[[[["\n', at: -1 },
    { name: 'brackets in single quotes with an escaped quote', text: "a: 'it''s [[[[['\n", at: -1 },
    { name: 'brackets in a plain scalar', text: 'a: x[[[[[\n', at: -1 },
    { name: 'brackets in a comment', text: 'a: 1 # [[[[[\n', at: -1 },
    { name: 'block scalar body is text', text: 'a: |\n  x:\n    y:\n      z:\n        w:\nb: 1\n', at: -1 },
    {
      name: 'after a block scalar, levels count again',
      text: 'a: |\n  text\nb:\n  c:\n    d:\n      e: 1\n',
      at: 'e: 1',
    },
    { name: 'quoted scalar over several lines', text: 'a: "x\n    [[[[[\n  y"\nb: 1\n', at: -1 },
  ])('$name', ({ text, at }) => {
    const want = typeof at === 'number' ? at : text.indexOf(at);
    expect(findNestingOverflow(text, 0, text.length, 3)).toBe(want);
  });

  it('looks only at the given slice', () => {
    const text = 'a: [[[[1]]]]\n---\nb: 1\n';
    expect(findNestingOverflow(text, text.indexOf('b'), text.length, 3)).toBe(-1);
    expect(findNestingOverflow(text, 0, text.indexOf('---'), 3)).toBe(text.indexOf('[[1]'));
  });
});
