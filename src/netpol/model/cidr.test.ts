/** Address and CIDR parsing and containment, IPv4 and IPv6, as ipBlock matching needs them. */
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrWithin, formatCidr, formatIp, parseCidr, parseIp } from './cidr.js';

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

describe('formatIp / formatCidr (canonical text for data planes)', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::1', '::1'],
    ['FD00:0:0:0:0:0:10:1', 'fd00::10:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::', '::'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
  ])('address %s -> %s', (text, want) => {
    expect(formatIp(parseIp(text)!)).toBe(want);
  });
  it.each([
    ['10.1.2.3/16', '10.1.0.0/16'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd00::1/64', 'fd00::/64'],
  ])('cidr %s -> %s', (text, want) => {
    expect(formatCidr(parseCidr(text)!)).toBe(want);
  });
});
