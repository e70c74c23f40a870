import { DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { StorageUnusableError, type BlobStore } from './blob-store';

export interface S3Location {
  bucket: string;
  /** Folder inside the bucket, without slashes at either end ('' for the bucket's root). */
  prefix: string;
  /** For S3-compatible stores (MinIO, R2, B2): their URL; unset for AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Bounds one request (connect, then the whole answer); the SDK retries once. */
  timeoutMs: number;
}

/** DeleteObjects takes at most this many keys a call. */
const DELETE_BATCH = 1000;

const statusOf = (err: unknown): number | undefined => (err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined);

/**
 * Blobs as objects under `<bucket>/<prefix>/<KEY_PREFIX>/`, on AWS S3 or any S3-compatible store. Credentials
 * come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance or
 * task role). A PUT is atomic by itself.
 */
export function createS3Store(location: S3Location, keyPrefix: string): BlobStore {
  // The SDK announces on stderr, in plain text, that its 2027 releases need Node 22: this service pins its
  // version in package-lock.json, and its stderr carries JSON log lines only.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({
    region: location.region,
    endpoint: location.endpoint,
    forcePathStyle: location.forcePathStyle,
    maxAttempts: 2,
    // A request past its timeout fails (the SDK would otherwise print a plain-text warning and go on waiting).
    requestHandler: { connectionTimeout: location.timeoutMs, requestTimeout: location.timeoutMs, throwOnRequestTimeout: true },
  });
  const { bucket } = location;
  const root = [location.prefix, keyPrefix].filter(Boolean).join('/') + '/';
  const keyOf = (name: string) => root + name;

  async function get(name: string): Promise<Buffer | undefined> {
    try {
      const reply = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(name) }));
      return Buffer.from(await reply.Body!.transformToByteArray());
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async function has(name: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(name) }));
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  return {
    location: `s3://${bucket}/${root}${location.endpoint ? ` at ${location.endpoint}` : ''}`,

    get,

    has,

    async put(name, bytes) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(name), Body: bytes }));
    },

    async putNew(name, bytes) {
      if (await has(name)) return false;
      try {
        // Conditional (AWS since 2024, MinIO, R2), for two processes that both found no blob; a store that
        // ignores the condition overwrites, and callers read back what was kept.
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(name), Body: bytes, IfNoneMatch: '*' }));
        return true;
      } catch (err) {
        if (statusOf(err) === 412 || statusOf(err) === 409) return false;
        throw err;
      }
    },

    async delete(names) {
      for (let i = 0; i < names.length; i += DELETE_BATCH) {
        const batch = names.slice(i, i + DELETE_BATCH);
        const reply = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((name) => ({ Key: keyOf(name) })), Quiet: true } }));
        const failed = reply.Errors?.[0];
        if (failed) throw new Error(`S3 could not delete ${failed.Key}: ${failed.Code ?? 'error'}`);
      }
    },

    async list(prefix, { after, limit }) {
      // Version 1 (a marker, no continuation token): every S3-compatible store has it, and the caller pages by name.
      const reply = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: keyOf(prefix), Marker: after === undefined ? undefined : keyOf(after), MaxKeys: limit }));
      return (reply.Contents ?? []).map((object) => object.Key!.slice(root.length));
    },

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        const status = statusOf(err);
        const reason =
          status === 404 ? 'the bucket does not exist'
          : status === 403 || status === 401 ? 'access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the role)'
          : `${(err as Error).name}: ${(err as Error).message}`;
        throw new StorageUnusableError(`STORAGE_URL s3://${bucket} cannot be used: ${reason}${location.endpoint ? ` (S3_ENDPOINT ${location.endpoint})` : ''}`);
      }
    },
  };
}
