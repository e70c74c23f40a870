import type { Config } from '../config';
import type { BlobStore } from './blob-store';
import { createFileStore } from './file-store';
import { createS3Store } from './s3-store';

/**
 * The durable store STORAGE_URL names, checked (the folder can be written, the bucket answers): undefined for
 * `none`. A store that cannot be used throws StorageUnusableError, one line for the operator.
 */
export async function openBlobStore({ target, timeoutMs }: Config['storage'], keyPrefix: string): Promise<BlobStore | undefined> {
  let store: BlobStore;
  if (target.kind === 'none') return undefined;
  if (target.kind === 'file') store = createFileStore(target.dir, keyPrefix);
  else store = createS3Store({ ...target, timeoutMs }, keyPrefix);
  await store.check();
  return store;
}
