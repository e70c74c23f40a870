import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { StorageUnusableError, type BlobStore } from './blob-store';

/** Marks a file being written: never listed, never read. */
const TEMPORARY = '.tmp-';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR';

/**
 * Blobs as files under `<dir>/<prefix>/`: one directory serves every process of a machine. A write goes to a
 * temporary file in the same folder, then a rename: readers never see half a blob, a crash leaves only a
 * `.tmp-` file behind.
 */
export function createFileStore(dir: string, prefix: string): BlobStore {
  const root = resolve(dir, prefix);
  const pathOf = (name: string) => join(root, name);

  /** The bytes in a new temporary file beside `path`. */
  async function writeTemporary(path: string, bytes: Buffer): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}${TEMPORARY}${randomBytes(6).toString('hex')}`;
    try {
      await writeFile(temporary, bytes);
      return temporary;
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
  }

  async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
    const temporary = await writeTemporary(path, bytes);
    try {
      await rename(temporary, path);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
  }

  return {
    location: `file:${root}`,

    async get(name) {
      try {
        return await readFile(pathOf(name));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async has(name) {
      try {
        return (await stat(pathOf(name))).isFile();
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    },

    put: (name, bytes) => writeAtomically(pathOf(name), bytes),

    async putNew(name, bytes) {
      const path = pathOf(name);
      const temporary = await writeTemporary(path, bytes);
      try {
        // A hard link is created whole or not at all, and never over an existing name: of two processes
        // writing the first version of a name, one wins and both then read the same bytes.
        await link(temporary, path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      } finally {
        await rm(temporary, { force: true });
      }
    },

    async delete(names) {
      await Promise.all(
        names.map((name) =>
          unlink(pathOf(name)).catch((err: unknown) => {
            if (!isMissing(err)) throw err;
          }),
        ),
      );
    },

    async list(prefix, { after, limit }) {
      let entries: string[];
      try {
        entries = await readdir(pathOf(prefix));
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
      return entries
        .filter((entry) => !entry.includes(TEMPORARY))
        .map((entry) => prefix + entry)
        .sort()
        .filter((name) => after === undefined || name > after)
        .slice(0, limit);
    },

    async check() {
      const probe = pathOf(`.probe${TEMPORARY}${randomBytes(6).toString('hex')}`);
      try {
        await writeAtomically(probe, Buffer.from('ok'));
        await unlink(probe);
      } catch (err) {
        throw new StorageUnusableError(`STORAGE_URL file:${dir} cannot be used: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} writing in ${root}`);
      }
    },
  };
}
