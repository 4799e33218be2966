/**
 * The node:http edge: oversized bodies refused with an Azure-shaped 413, a handler fault
 * answered with a 500 without a stack trace, and the server still serving afterwards.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from './issuer.js';
import { MAX_BODY_BYTES, issuerListener } from './node-listener.js';

const fake: Issuer = {
  issuerFor: (t) => t,
  mintForIdentity: () => Promise.reject(new Error('unused')),
  handle: (req) =>
    req.url === '/boom'
      ? Promise.reject(new Error('secret internals'))
      : Promise.resolve({
          status: 200,
          headers: { 'content-type': 'text/plain' },
          body: `len=${req.body.length}`,
        }),
};

describe('issuerListener', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer(issuerListener(fake));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([
    ['a normal body', '/ok', 'a=b', 200, 'len=3'],
    ['an oversized body', '/ok', 'x'.repeat(MAX_BODY_BYTES + 1), 413, 'AADSTS900144'],
    ['a handler fault', '/boom', '', 500, 'invalid_request'],
    ['a request after the fault', '/ok', '', 200, 'len=0'],
  ])('%s -> %i', async (_name, path, body, status, contains) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body });
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(text).toContain(contains);
    expect(text).not.toContain('secret internals');
  });
});
