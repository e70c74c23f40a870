import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { freePort } from './redis-server';
import { eventually } from './stack';

/** A real 3-master Redis Cluster on loopback ports, made by the test and torn down after it. */
export class OwnRedisCluster {
  private readonly children: ChildProcess[] = [];
  ports: number[] = [];

  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  async start(masters = 3): Promise<void> {
    const dir = mkdtempSync(path.join(tmpdir(), 'redis-cluster-'));
    this.ports = await Promise.all(Array.from({ length: masters }, () => freePort()));
    for (const port of this.ports) {
      this.children.push(
        spawn(
          'redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--dir', dir],
          { stdio: 'ignore' },
        ),
      );
    }
    await eventually(() => this.ports.every((p) => spawnSync('redis-cli', ['-p', String(p), 'ping']).stdout?.toString().trim() === 'PONG'), 10_000, 50);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await eventually(
      () => this.ports.every((p) => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info']).stdout?.toString() ?? '')),
      10_000,
      100,
    );
  }

  client(): Cluster {
    return new Cluster(this.ports.map((port) => ({ host: '127.0.0.1', port })));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}
