// `npm start`, `npm run start:api`, `npm run start:worker`: build (when TypeScript is installed), then run
// dist/src/server.js with the given arguments, in this process. Builds take a lock, so starting both roles at once builds once;
// a production install without dev dependencies (npm ci --omit=dev) runs the existing build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, '.build.lock');
const stamp = path.join(root, 'dist', '.built-at');
const server = path.join(root, 'dist', 'src', 'server.js');
const STALE_LOCK_MS = 5 * 60_000;

const say = (msg) => process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), service: 'avatar-cdn', msg })}\n`);
const fail = (msg) => {
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), service: 'avatar-cdn', msg })}\n`);
  process.exit(1);
};
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const builtAt = () => (existsSync(stamp) ? statSync(stamp).mtimeMs : 0);

function typescriptInstalled() {
  try {
    createRequire(path.join(root, 'package.json')).resolve('typescript');
    return true;
  } catch {
    return false;
  }
}

function buildOnce() {
  const askedAt = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmdirSync(lock);
      else sleep(100);
    }
  }
  try {
    // Another start built while this one waited: use that build.
    if (builtAt() >= askedAt) return say('build: already built by a start running alongside');
    say('build: compiling TypeScript');
    const tsc = spawnSync(process.execPath, [createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (tsc.status !== 0) fail('build: TypeScript compilation failed');
    writeFileSync(stamp, String(Date.now()));
  } finally {
    rmdirSync(lock);
  }
}

if (typescriptInstalled()) buildOnce();
else if (!existsSync(server)) fail('no build in dist/: run npm run build with the dev dependencies installed, then npm ci --omit=dev');

// In this process, so signals reach the service itself (it reads its role from this process's arguments).
await import(pathToFileURL(server).href);
