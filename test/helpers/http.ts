import request from 'supertest';
import type { Response } from 'supertest';

/** Collects the raw body whatever the content type, so tests can decode images with sharp. */
function binary(res: NodeJS.ReadableStream & { setEncoding(e: string): void }, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

/** Sends at once (a supertest request is lazy until awaited) and resolves with the raw-bodied response. */
export function get(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return request(baseUrl).get(path).set(headers).buffer(true).parse(binary as never).then((res) => res);
}

export function head(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return request(baseUrl).head(path).set(headers).then((res) => res);
}

/** The JSON error of a 4xx (parsed from the raw body). */
export function errorOf(res: Response): { code: string; message: string } {
  return (JSON.parse((res.body as Buffer).toString('utf8')) as { error: { code: string; message: string } }).error;
}

/** `/readyz` with its details (which part, which instance, why): the public port shows them to the admin only. */
export function readyz(baseUrl: string, adminToken: string): Promise<Response> {
  return request(baseUrl).get('/readyz').set('Authorization', `Bearer ${adminToken}`).then((res) => res);
}
