import request from 'supertest';
import { specProblems } from '../helpers/openapi';
import { ManualClock, startStack, type Stack } from '../helpers/stack';

const ADMIN = 'admin-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${ADMIN}` };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_TOKEN: ADMIN, DEMO_PAGE: 'true', DEMO_CONTACTS: '11001234567', RENDER_RATE_PER_MIN: '2' }, clock: new ManualClock().now });
  stack.green.set('11009200001@c.us', { kind: 'avatar', url: await stack.images.add('documented') });
  stack.green.set('11009200002@c.us', { kind: 'no-avatar' });
});
afterAll(() => stack.close());

type Call = [method: 'GET' | 'HEAD' | 'POST' | 'DELETE' | 'OPTIONS', path: string, headers?: Record<string, string>, body?: unknown];

/** Every route, with the statuses it answers: each real response must match the document. */
const calls: Call[] = [
  ['GET', '/avatar/11009200001.webp'],
  ['GET', '/avatar/11009200001.png?size=64&d=initials&name=Jane%20Doe'],
  ['HEAD', '/avatar/11009200001.webp'],
  ['OPTIONS', '/avatar/11009200001.webp', { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET' }],
  ['GET', '/avatar/11009200002.webp?d=404'],
  ['GET', '/avatar/11009200001.gif'],
  ['GET', '/avatar/11009200001.json'],
  ['GET', '/avatar/11009200002.json?size=48'],
  ['GET', '/avatar/123.json'],
  // The render budget (2 a minute) runs out: 429 with the placeholder.
  ['GET', '/avatar/11009200001.avif?size=32'],
  ['GET', '/avatar/11009200001.avif?size=48'],
  ['GET', '/avatar/11009200001.avif?size=96'],
  ['POST', '/v1/warm', auth, { chatIds: ['11009200003', 'nope'] }],
  ['POST', '/v1/warm', auth, { ids: [] }],
  ['POST', '/v1/warm', {}, { chatIds: ['11009200003'] }],
  ['GET', '/v1/warm/00000000-0000-0000-0000-000000000000', auth],
  ['POST', '/v1/avatars/11009200001/refresh', auth],
  ['POST', '/v1/avatars/12/refresh', auth],
  ['DELETE', '/v1/avatars/11009200002', auth],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
  ['GET', '/'],
  ['GET', '/demo/urls?id=%2B1%20(100)%20123-4567'],
  ['GET', '/demo/urls?id=hello'],
];

describe('the OpenAPI document', () => {
  it('describes every response the service gives, headers and JSON bodies included', async () => {
    const statuses: string[] = [];
    for (const [method, path, headers = {}, body] of calls) {
      let req = request(stack.url)[method.toLowerCase() as 'get'](path).set(headers);
      if (body !== undefined) req = req.send(body as object);
      const res = await req;
      statuses.push(`${method} ${path.split('?')[0]} ${res.status}`);
      expect({ call: `${method} ${path}`, problems: specProblems(method, path, { status: res.status, headers: res.headers, body: res.body, text: res.text }) }).toEqual({
        call: `${method} ${path}`,
        problems: [],
      });
    }
    // The table really covered errors, 304-less revalidation aside: 2xx, 4xx and a 429.
    expect(statuses.some((s) => s.endsWith(' 429'))).toBe(true);
    expect(statuses.some((s) => s.endsWith(' 401'))).toBe(true);
    const etag = (await request(stack.url).get('/avatar/11009200001.json')).headers['etag']!;
    const revalidated = await request(stack.url).get('/avatar/11009200001.json').set('If-None-Match', etag);
    expect(specProblems('GET', '/avatar/11009200001.json', { status: revalidated.status, headers: revalidated.headers })).toEqual([]);
  });

  it('catches a response the document does not describe', () => {
    expect(specProblems('GET', '/avatar/1.json', { status: 418, headers: {} })).toEqual(['GET /avatar/{id}.json does not document status 418']);
    expect(specProblems('GET', '/nowhere', { status: 200, headers: {} })).toEqual(['/nowhere is not in the OpenAPI document']);
    expect(specProblems('GET', '/avatar/1.json', { status: 200, headers: { 'content-type': 'application/json' }, body: { chatId: 1 } }).length).toBeGreaterThan(0);
  });

  it('is served at /openapi.json as OpenAPI 3.1', async () => {
    const res = await request(stack.url).get('/openapi.json');
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/avatar/{file}', '/avatar/{id}.json', '/v1/warm', '/v1/avatars/{id}/refresh', '/v1/avatars/{id}', '/healthz', '/readyz', '/metrics']));
  });
});
