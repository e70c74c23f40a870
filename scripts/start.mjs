// `npm start`, `npm run start:api`, `npm run start:worker`: build when the sources are newer than the build (and
// the dev toolchain is installed), then run dist/src/server.js with the given arguments, in this process.
//  - A production install (npm ci --omit=dev) never builds: it runs the build it was given. (TypeScript may be
//    installed there anyway, as an optional peer of a dependency; what a build needs is TypeScript and
//    @types/node, which only a dev install has.)
//  - Builds take a lock holding the builder's pid, so starting both roles at once builds once, and a lock left
//    by a start that was killed is taken over at once.
//  - Started by npm, it stops when npm goes: npm exits on SIGTERM without passing it on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, '.build.lock');
const server = path.join(root, 'dist', 'src', 'server.js');
const SOURCES = ['src', 'workers', 'tsconfig.json', 'tsconfig.build.json'];

const line = (level, msg) => process.stderr.write(`${JSON.stringify({ level, time: Date.now(), service: 'avatar-cdn', msg })}\n`);
const say = (msg) => line(30, msg);
const fail = (msg) => {
  line(60, msg);
  process.exit(1);
};
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
// tsc writes every output file at each build (npm run build or a start's): the entry point's time is the build's.
const builtAt = () => (existsSync(server) ? statSync(server).mtimeMs : 0);
const resolves = (name) => {
  try {
    return createRequire(path.join(root, 'package.json')).resolve(name);
  } catch {
    return undefined;
  }
};

/** The newest modification time under a source of the build (a file, or a directory and what it holds). */
function changedAt(entry) {
  const full = path.join(root, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(full).map((name) => changedAt(path.join(entry, name))));
}
const sourcesChangedAt = () => Math.max(...SOURCES.map(changedAt));

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

/** The build lock, taken over from a builder that is gone (killed mid-build) instead of waiting for it. */
function takeLock() {
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(existsSync(path.join(lock, 'pid')) ? readFileSync(path.join(lock, 'pid'), 'utf8') : 0);
      // No pid yet: a builder between mkdir and its write; give it a moment.
      if (holder && !alive(holder)) {
        say(`build: taking over the lock of a build that stopped (pid ${holder})`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!told) say(`build: waiting for the build of pid ${holder || '?'}`);
      told = true;
      sleep(100);
    }
  }
}

function build() {
  const askedAt = Date.now();
  takeLock();
  try {
    // Another start built while this one waited: use that build.
    if (builtAt() >= askedAt) return say('build: already built by a start running alongside');
    say('build: compiling TypeScript (the sources are newer than dist/)');
    const tsc = spawnSync(process.execPath, [resolves('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (tsc.status !== 0) fail('build: TypeScript compilation failed');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const devToolchain = resolves('typescript/bin/tsc') !== undefined && resolves('@types/node/package.json') !== undefined;
const stale = !existsSync(server) || sourcesChangedAt() > builtAt();
if (stale && devToolchain) build();
else if (!existsSync(server)) fail('no build in dist/: run npm run build with the dev dependencies installed, then npm ci --omit=dev');
else if (stale && existsSync(path.join(root, 'src'))) say('build: the sources look newer than dist/, but without the dev dependencies nothing is compiled: running dist/ as it is');

// Started by npm: npm exits on SIGTERM without passing it to this process, which would keep serving as an
// orphan. When the parent goes, stop as if signalled.
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 200).unref();
}

// In this process, so signals reach the service itself (it reads its role from this process's arguments).
await import(pathToFileURL(server).href);
