import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A real S3 protocol server on loopback (s3rver), with one bucket, that can be stopped and started again. */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The settings a service needs to keep its blobs in the bucket (under `prefix` inside it). */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
  /** Starts again on the same port, with the same objects. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'avatars'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  let port = 0;
  let server: S3rver | undefined;
  const start = async () => {
    server = new S3rver({ port, address: '127.0.0.1', silent: process.env.S3RVER_LOG !== '1', directory, configureBuckets: [{ name: bucket }] });
    port = (await server.run()).port;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver takes any signature made with its own pair of keys; the SDK reads them from the environment.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  return {
    endpoint,
    bucket,
    env: (prefix) => ({ STORAGE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`, S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }),
    stop,
    start,
    async close() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
