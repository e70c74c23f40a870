import { startStack, type Stack } from '../helpers/stack';
import { errorOf, get } from '../helpers/http';
import request from 'supertest';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('bad input: 400 with a JSON error and no upstream call', () => {
  it.each([
    ['/avatar/123.webp', 'invalid_chat_id'],
    ['/avatar/1234567.webp', 'invalid_chat_id'],
    ['/avatar/1234567890123456.webp', 'invalid_chat_id'],
    ['/avatar/01001234567.webp', 'invalid_chat_id'],
    ['/avatar/+11001234567.webp', 'invalid_chat_id'],
    ['/avatar/abcdefghijk.webp', 'invalid_chat_id'],
    ['/avatar/11001234567@s.whatsapp.net.webp', 'invalid_chat_id'],
    ['/avatar/..%2f..%2fetc%2fpasswd.webp', 'invalid_chat_id'],
    ['/avatar/%D9%A1%D9%A1%D9%A0%D9%A0%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5%D9%A6%D9%A7.webp', 'invalid_chat_id'],
    ['/avatar/11001234567%00.webp', 'invalid_chat_id'],
    [`/avatar/${'1'.repeat(10_000)}.webp`, 'invalid_chat_id'],
    ['/avatar/hello', 'invalid_chat_id'],
    ['/avatar/11001234567.gif', 'invalid_format'],
    ['/avatar/11001234567.svg', 'invalid_format'],
    ['/avatar/11001234567.webp?size=0', 'invalid_size'],
    ['/avatar/11001234567.webp?size=641', 'invalid_size'],
    ['/avatar/11001234567.webp?size=-5', 'invalid_size'],
    ['/avatar/11001234567.webp?size=abc', 'invalid_size'],
    ['/avatar/11001234567.webp?size=1.5', 'invalid_size'],
    ['/avatar/11001234567.webp?size=1e3', 'invalid_size'],
    ['/avatar/11001234567.webp?size=', 'invalid_size'],
    ['/avatar/11001234567.webp?size=64&size=128', 'invalid_size'],
    ['/avatar/11001234567.webp?size[]=64', 'invalid_query'],
    ['/avatar/11001234567.webp?fallback=mm', 'invalid_fallback'],
    ['/avatar/11001234567.webp?v=2', 'invalid_query'],
  ])('%s -> %s', async (path, code) => {
    const res = await get(stack.url, path);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({ code, message: expect.any(String) });
  });

  it('made no upstream call for any of them, and the process stays healthy', async () => {
    expect(stack.green.calls).toHaveLength(0);
    expect((await request(stack.url).get('/healthz')).status).toBe(200);
    expect((await request(stack.url).get('/readyz')).status).toBe(200);
  });

  it('answers other methods with 405 and Allow', async () => {
    const res = await request(stack.url).post('/avatar/11001234567.webp');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD, OPTIONS');
    expect(res.body.error.code).toBe('method_not_allowed');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers unknown routes with a JSON 404 that no cache keeps', async () => {
    const res = await request(stack.url).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers a browser\'s /favicon.ico with an empty 204 it may keep', async () => {
    const res = await request(stack.url).get('/favicon.ico');
    expect(res.status).toBe(204);
    expect(res.headers['cache-control']).toBe('public, max-age=86400');
  });

  it('gives an avatar route\'s errors the CORS headers and no-store', async () => {
    const res = await get(stack.url, '/avatar/123.webp', { Origin: 'https://app.example.com' });
    expect(res.status).toBe(400);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toContain('X-Avatar-Status');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers If-Match that names no current ETag with 412, and one that does with the image', async () => {
    stack.green.set('11007300001@c.us', { kind: 'no-avatar' });
    const first = await get(stack.url, '/avatar/11007300001.png');
    const failed = await get(stack.url, '/avatar/11007300001.png', { 'If-Match': '"not-this-one"' });
    expect(failed.status).toBe(412);
    expect(errorOf(failed).code).toBe('precondition_failed');
    expect(failed.headers['cache-control']).toBe('no-store');
    const matched = await get(stack.url, '/avatar/11007300001.png', { 'If-Match': first.headers.etag! });
    expect(matched.status).toBe(200);
    expect((await get(stack.url, '/avatar/11007300001.png', { 'If-Match': '*' })).status).toBe(200);
  });

  it('answers a malformed percent-encoding with a 400, not a 500', async () => {
    const res = await request(stack.url).get('/avatar/%E0%A4%A.webp');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
  });
});
