/** Address and CIDR parsing and containment, IPv4 and IPv6, as ipBlock matching needs them. */
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrWithin, parseCidr, parseIp } from './cidr.js';

describe('parseIp', () => {
  it.each([
    ['10.0.0.1', true],
    ['256.0.0.1', false],
    ['01.2.3.4', false],
    ['1.2.3', false],
    ['::1', true],
    ['fd00::10:1', true],
    ['::ffff:10.0.0.1', true],
    ['1::2::3', false],
    ['1:2:3:4:5:6:7:8:9', false],
  ])('%s valid=%s', (text, valid) => {
    expect(parseIp(text) !== null).toBe(valid);
  });
});

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['0.0.0.0/4', '10.244.1.10', true],
    ['10.244.1.11/32', '10.244.1.11', true],
    ['10.244.1.11/32', '10.244.1.12', false],
    ['10.1.2.3/16', '10.1.200.1', true],
    ['0.0.0.0/0', '1.2.3.4', true],
    ['0.0.0.0/0', '::1', false],
    ['fd00::/8', 'fd12::1', true],
    ['fd00::/8', 'fe00::1', false],
  ])('%s contains %s: %s', (cidr, ip, want) => {
    expect(cidrContains(parseCidr(cidr)!, parseIp(ip)!)).toBe(want);
  });

  it('rejects malformed CIDRs', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', 'x/8', '::/129', '10.0.0.0/08']) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });

  it('cidrWithin', () => {
    expect(cidrWithin(parseCidr('10.1.0.0/16')!, parseCidr('10.0.0.0/8')!)).toBe(true);
    expect(cidrWithin(parseCidr('10.0.0.0/8')!, parseCidr('10.1.0.0/16')!)).toBe(false);
  });
});
