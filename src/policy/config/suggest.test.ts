import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from './suggest.js';

describe('editDistance', () => {
  it.each([
    { name: 'equal', a: 'effect', b: 'effect', want: 0 },
    { name: 'one deletion', a: 'namespace', b: 'namespaces', want: 1 },
    { name: 'substitution', a: 'deny', b: 'dany', want: 1 },
    { name: 'adjacent swap counts once', a: 'exmeptions', b: 'exemptions', want: 1 },
    { name: 'empty', a: '', b: 'abc', want: 3 },
  ])('$name', ({ a, b, want }) => {
    expect(editDistance(a, b)).toBe(want);
  });
});

describe('closest', () => {
  const known = ['namespaces', 'excludedNamespaces', 'labelSelector', 'effect', 'exemptions'];
  it.each([
    { name: 'missing plural s', word: 'namespace', want: 'namespaces' },
    { name: 'case only', word: 'LabelSelector', want: 'labelSelector' },
    { name: 'typo in long word', word: 'excludedNamespace', want: 'excludedNamespaces' },
    { name: 'swap', word: 'exmeptions', want: 'exemptions' },
    { name: 'too far', word: 'banana', want: null },
    { name: 'short word needs distance 1', word: 'efx', want: null },
  ])('$name', ({ word, want }) => {
    expect(closest(word, known)).toBe(want);
  });

  it('renders the hint text', () => {
    expect(didYouMean('efect', ['effect'])).toBe('; did you mean "effect"?');
    expect(didYouMean('zzz', ['effect'])).toBe('');
  });
});
