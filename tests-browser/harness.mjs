// The browser tests' harness: a real redis-server on a free loopback port,
// the built component under the real Spin CLI (`spin up`), and Debian's
// Chromium driven by playwright-core. No mocks; all on 127.0.0.1.
// Build the component first (scripts/browser-test.sh does).
//
// Spin is found as the scripts find it (scripts/lib.sh, find_spin): $SPIN_BIN;
// else `spin` on the PATH when it is Spin 3.x or 4.x; else
// ../shared/tools/spin/spin beside the project.

import { execFileSync, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = path.join(ROOT, 'target', 'test-output');
export const ADMIN_TOKEN = 'browser-test-admin-token';
/** The waiting-room signing key the tests configure (at least 32 bytes). */
export const QUEUE_SECRET = 'browser-test-queue-secret-0123456789abcdef';
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

/** A child process whose output goes to target/test-output/<log>; `options` go to spawn. */
function child(command, args, log, env = {}, options = {}) {
  mkdirSync(OUTPUT, { recursive: true });
  const out = createWriteStream(path.join(OUTPUT, log));
  const proc = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...options });
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

/** True while any process of process group `pgid` is alive. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a process group leader and its group: `spin up` runs a child
 * `spin trigger http`, which must not be orphaned. SIGINT to the whole
 * group, SIGKILL after 5 s if any of it is left.
 */
async function stopGroup(proc) {
  const pgid = proc.pid;
  const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r));
  try {
    process.kill(-pgid, 'SIGINT');
  } catch {
    return; // the group is gone already
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (!groupAlive(pgid)) break;
  }
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone in between
    }
  }
  await exited;
}

const INSTALL_HINT = `no Spin CLI found (SPIN_BIN, spin 3.x/4.x on the PATH, or ../shared/tools/spin/spin).
Install it with Spin's official installer (see https://spinframework.dev/install):
  curl -fsSL https://spinframework.dev/downloads/install.sh | bash && sudo mv ./spin /usr/local/bin/spin`;

/** The Spin CLI to run, in the scripts' order: $SPIN_BIN, spin 3.x/4.x on the PATH, the shared copy. */
export function findSpin() {
  if (process.env.SPIN_BIN) return process.env.SPIN_BIN;
  try {
    const version = execFileSync('spin', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (/^spin [34]\./.test(version)) return 'spin';
  } catch {
    // no spin on the PATH
  }
  const shared = path.resolve(ROOT, '..', 'shared', 'tools', 'spin', 'spin');
  if (existsSync(shared)) return shared;
  throw new Error(INSTALL_HINT);
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

/**
 * The component under real `spin up`, serving spin.toml with its Redis
 * variables pointing at `redis`. Each instance has a throwaway HOME holding
 * its own --state-dir and --log-dir, and its own process group (detached),
 * so stop() ends `spin up` and its `spin trigger http` child together.
 */
export class Spin {
  static async start(redis) {
    const spin = new Spin();
    spin.port = await freePort();
    spin.url = `http://127.0.0.1:${spin.port}`;
    spin.home = mkdtempSync(path.join(tmpdir(), 'seat-booking-spin-'));
    spin.proc = child(
      findSpin(),
      [
        'up',
        '--from', path.join(ROOT, 'spin.toml'),
        '--listen', `127.0.0.1:${spin.port}`,
        '--state-dir', path.join(spin.home, 'state'),
        '--log-dir', path.join(spin.home, 'logs'),
      ],
      `browser-spin-${spin.port}.log`,
      {
        HOME: spin.home,
        SPIN_VARIABLE_REDIS_ADDRESS: `redis://127.0.0.1:${redis.port}`,
        SPIN_VARIABLE_REDIS_HOST: `127.0.0.1:${redis.port}`,
        SPIN_VARIABLE_ADMIN_TOKEN: ADMIN_TOKEN,
        SPIN_VARIABLE_QUEUE_SECRET: QUEUE_SECRET,
      },
      // setsid: its own process group; started in its throwaway HOME, since
      // Spin reads .env from its working directory and a developer's .env
      // must not change what the tests see.
      { detached: true, cwd: spin.home },
    );
    const exited = new Promise((_, reject) => spin.proc.once('exit', (code) => reject(new Error(`spin up exited (${code}); see target/test-output/browser-spin-${spin.port}.log`))));
    exited.catch(() => {}); // only fatal while waiting below
    try {
      await Promise.race([
        waitUntil('spin up', async () => (await fetch(spin.url + '/api/version')).ok, 120000),
        exited,
      ]);
    } catch (e) {
      await spin.stop();
      throw e;
    }
    return spin;
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

  /** Creates an event with `rows` ([{ label, seats }]) through the admin API;
   * `extra` adds members such as `waitingRoom`. */
  async createEvent(id, name, rows, extra = {}) {
    const res = await this.api('POST', '/api/events', { id, name, rows, ...extra }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    if (res.status !== 201) throw new Error(`creating ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  async stop() {
    if (this.proc) await stopGroup(this.proc);
    if (this.home) rmSync(this.home, { recursive: true, force: true });
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

/** What each browser test file starts from: a Redis of its own, the
 * component under real Spin on it, a browser, and one event. `start` fills
 * the fields one by one, so `stop` (in `after`) also cleans up after a
 * start that failed half-way. */
export class Stage {
  async start(event, name, rows, extra = {}) {
    this.redis = await Redis.start();
    this.host = await Spin.start(this.redis);
    this.browser = await launchBrowser();
    await this.host.createEvent(event, name, rows, extra);
  }

  async stop() {
    await this.browser?.close();
    await this.host?.stop();
    await this.redis?.stop();
  }
}
