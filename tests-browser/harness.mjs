// The browser tests' harness: a real redis-server on a free loopback port,
// the built component in the project's host (target/release/spin-host), and
// Debian's Chromium driven by playwright-core. No mocks; all on 127.0.0.1.
// Build first (scripts/browser-test.sh does): the component and the host.

import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = path.join(ROOT, 'target', 'test-output');
export const ADMIN_TOKEN = 'browser-test-admin-token';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Resolves to true when `port` can be listened on right now. */
function canListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

let nextPort = 20000 + (process.pid % 12000);

/**
 * A loopback port nobody listens on right now, below Linux's ephemeral range
 * (32768 and up): a client polling a port in that range can connect to
 * itself and take the port away from the server about to listen there.
 */
export async function freePort() {
  for (;;) {
    nextPort = 20000 + ((nextPort - 20000 + 1) % 12000);
    if (await canListen(nextPort)) return nextPort;
  }
}

/** Resolves once `check()` is true; fails with `what` after `ms`. */
export async function waitUntil(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A child process whose output goes to target/test-output/<log>. */
function child(command, args, log, env = {}) {
  mkdirSync(OUTPUT, { recursive: true });
  const out = createWriteStream(path.join(OUTPUT, log));
  const proc = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pipe(out);
  proc.stderr.pipe(out);
  return proc;
}

function stop(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', resolve);
    proc.kill('SIGKILL');
  });
}

/** A throw-away redis-server (no persistence); `stop()` and `start()` again simulate an outage. */
export class Redis {
  constructor(port) {
    this.port = port;
    this.proc = null;
  }

  static async start() {
    const redis = new Redis(await freePort());
    await redis.start();
    return redis;
  }

  async start() {
    // No persistence, and any file it might write goes to the temp dir, not the repo.
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', '--dir', tmpdir()];
    this.proc = child('redis-server', args, `browser-redis-${this.port}.log`);
    await waitUntil('redis-server', () => canConnect(this.port), 10000);
  }

  stop() {
    return stop(this.proc);
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The host serving spin.toml, with its Redis variables pointing at `redis`. */
export class Host {
  static async start(redis) {
    const host = new Host();
    host.port = await freePort();
    host.url = `http://127.0.0.1:${host.port}`;
    host.proc = child(
      path.join(ROOT, 'target', 'release', 'spin-host'),
      ['up', '--from', 'spin.toml', '--listen', `127.0.0.1:${host.port}`],
      `browser-host-${host.port}.log`,
      {
        SPIN_VARIABLE_REDIS_ADDRESS: `redis://127.0.0.1:${redis.port}`,
        SPIN_VARIABLE_REDIS_HOST: `127.0.0.1:${redis.port}`,
        SPIN_VARIABLE_ADMIN_TOKEN: ADMIN_TOKEN,
      },
    );
    const exited = new Promise((_, reject) => host.proc.once('exit', (code) => reject(new Error(`host exited (${code})`))));
    exited.catch(() => {}); // only fatal while waiting below
    await Promise.race([
      waitUntil('the host', async () => (await fetch(host.url + '/api/version')).ok, 120000),
      exited,
    ]);
    return host;
  }

  /** A JSON API call: `{ status, body }`. */
  async api(method, urlPath, body, headers = {}) {
    const res = await fetch(this.url + urlPath, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Creates an event with `rows` ([{ label, seats }]) through the admin API. */
  async createEvent(id, name, rows) {
    const res = await this.api('POST', '/api/events', { id, name, rows }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    if (res.status !== 201) throw new Error(`creating ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  stop() {
    return stop(this.proc);
  }
}

/** Debian's Chromium, headless; never a browser download. Playwright gives
 * each launch a fresh temporary profile (user data dir) of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
