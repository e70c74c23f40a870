/**
 * The durable tier's one interface: named blobs in a directory or a bucket. Names are relative paths
 * (`sources/ab/abcd...`); each store keeps them under its own root and KEY_PREFIX, so nothing outside
 * src/storage/ knows whether bytes live on a disk or behind an S3 API.
 */
export interface BlobStore {
  /** Where the blobs live, for logs and /readyz (never a credential). */
  readonly location: string;
  get(name: string): Promise<Buffer | undefined>;
  has(name: string): Promise<boolean>;
  /** Atomic: a reader sees the old blob, the new one or none, never part of one. */
  put(name: string, bytes: Buffer): Promise<void>;
  /** Writes only when no blob has the name; whether it wrote. */
  putNew(name: string, bytes: Buffer): Promise<boolean>;
  /** Removes what exists of `names`. */
  delete(names: string[]): Promise<void>;
  /** Names under `prefix` (a folder: it ends with `/`) in byte order, after `after`, at most `limit`. */
  list(prefix: string, options: { after?: string; limit: number }): Promise<string[]>;
  /** Fails with a message for the operator when the store cannot be used (a missing bucket, an unwritable folder). */
  check(): Promise<void>;
}

/** The store cannot be used at all; its message is one line for the operator. */
export class StorageUnusableError extends Error {
  override name = 'StorageUnusableError';
}
