import type { Config } from '../config';
import { StorageUnusableError, type BlobStore } from './blob-store';
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
  // A check that hangs (a dead network mount, /proc) is an unusable store too, said in one line.
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageUnusableError(`STORAGE_URL ${store.location} cannot be used: no answer in ${timeoutMs} ms (STORAGE_TIMEOUT_MS)`)), timeoutMs);
  });
  await Promise.race([store.check(), hung]).finally(() => clearTimeout(timer));
  return store;
}
