// Real services for the client's tests, as the Go tests start them
// (internal/testenv): redis-server, Azurite and one `empplay worker`, each
// on a free loopback port, in its own process group, with its state in a
// temp dir, and dies with the test process. Everything is stopped by
// process group id; nothing is looked up or killed by name.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The well-known Azurite development account. */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The first of names found in PATH, or null. */
function lookPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** The binaries the stack needs. */
export function binaries() {
  const azurite = process.env.EMPPLAY_AZURITE_BIN ?? path.join(repoRoot, 'node_modules', '.bin', 'azurite-blob');
  return {
    redis: lookPath('redis-server'),
    azurite: existsSync(azurite) ? azurite : lookPath('azurite-blob'),
    empplay: process.env.EMPPLAY_BIN ?? path.join(repoRoot, 'bin', 'empplay'),
    chromium: process.env.EMPPLAY_CHROMIUM ?? '/usr/lib/chromium/chromium-headless-shell',
  };
}

/**
 * Why the stack cannot start here, or false when it can. With
 * EMPPLAY_REQUIRE_INTEGRATION=1 (make test) a missing binary is an error,
 * not a reason to skip.
 */
export function missing() {
  const b = binaries();
  const gone = Object.entries(b)
    .filter(([, p]) => !p || !existsSync(p))
    .map(([name]) => name);
  if (gone.length === 0) return false;
  const why = `not installed: ${gone.join(', ')}; run make setup (scripts/setup.sh)`;
  if (process.env.EMPPLAY_REQUIRE_INTEGRATION === '1') throw new Error(why);
  return why;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** A process in its own process group, its output kept (first MiB). */
class Proc {
  constructor(name, file, args, options = {}) {
    this.name = name;
    this.output = '';
    // Through setpriv (util-linux), the service dies with this process
    // even when it is killed outright (a CI timeout, the OOM killer) and
    // stop() never runs, as the Go tests' services do (Pdeathsig).
    const setpriv = lookPath('setpriv');
    const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, args];
    this.child = spawn(cmd, argv, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b) => {
      if (this.output.length < 1 << 20) this.output += b.toString();
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', (err) => resolve({ code: null, signal: null, err }));
    });
    this.done = false;
    this.exited.then(() => {
      this.done = true;
    });
  }

  /** Sends sig to the process group; a group that is gone is fine. */
  #signal(sig) {
    try {
      process.kill(-this.child.pid, sig);
    } catch (err) {
      if (err.code !== 'ESRCH') throw err;
    }
  }

  /** SIGTERM to the group, SIGKILL after grace ms; resolves with the exit. */
  async stop(grace = 5000) {
    if (this.child.pid === undefined) return this.exited;
    if (!this.done) this.#signal('SIGTERM');
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve('late'), grace);
    });
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first === 'late') this.#signal('SIGKILL');
    const exit = await this.exited;
    this.#signal('SIGKILL'); // anything the leader left in its group
    return { ...exit, late: first === 'late' };
  }
}

/** Resolves once port accepts connections; rejects when proc exits first. */
async function waitTCP(proc, port, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (proc.done) throw new Error(`${proc.name} exited before listening on ${port}:\n${proc.output}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeout} ms:\n${proc.output}`);
    // The port is not open yet: ask again on the next turn of a 20 ms timer.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The pids whose command line mentions dir (a unique temp dir). */
function processesUsing(dir) {
  const pids = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`).includes(dir)) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Redis, Azurite and one worker. */
export class Stack {
  /** @type {Proc[]} */
  #procs = [];
  dir = mkdtempSync(path.join(os.tmpdir(), 'empplay-client-'));

  async start() {
    const b = binaries();
    const redisPort = await freePort();
    const redis = this.#start('redis-server', b.redis, [
      '--bind', '127.0.0.1', '--port', String(redisPort), '--dir', this.dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--loglevel', 'warning',
    ]);
    const blobPort = await freePort();
    const azurite = this.#start('azurite-blob', b.azurite, [
      '--blobHost', '127.0.0.1', '--blobPort', String(blobPort), '--inMemoryPersistence', '--disableTelemetry',
      '--skipApiVersionCheck', '--silent',
    ], { cwd: this.dir });
    await Promise.all([waitTCP(redis, redisPort, 10_000), waitTCP(azurite, blobPort, 30_000)]);
    this.redisURL = `redis://127.0.0.1:${redisPort}/0`;
    this.blobEndpoint = `http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT}`;
    this.profiles = path.join(this.dir, 'profiles');
    this.worker = this.#start('empplay worker', b.empplay, ['worker'], {
      env: {
        ...process.env,
        REDIS_URL: this.redisURL,
        AZURE_STORAGE_CONNECTION_STRING:
          `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${this.blobEndpoint};`,
        CDN_URI: this.blobEndpoint,
        CHROMIUM_PATH: b.chromium,
        EMPPLAY_PROFILE_DIR: this.profiles,
        LOG_FORMAT: 'json',
      },
    });
    return this;
  }

  #start(name, file, args, options) {
    const p = new Proc(name, file, args, options);
    this.#procs.push(p);
    return p;
  }

  /**
   * Stops everything, the worker first so it can close its Chromium.
   * Returns what went wrong: a worker that did not stop cleanly, or
   * processes still using its profile dir (killed by pid).
   */
  async stop() {
    const problems = [];
    for (const p of [...this.#procs].reverse()) {
      const exit = await p.stop(p === this.worker ? 20_000 : 5000);
      if (p === this.worker && (exit.late || exit.code !== 0)) {
        problems.push(`the worker did not exit 0 within 20 s of SIGTERM (${JSON.stringify(exit)}):\n${p.output.slice(-4000)}`);
      }
    }
    if (this.profiles) {
      const left = processesUsing(this.profiles);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      if (left.length) problems.push(`processes still used the worker's profile dir: ${left.join(', ')}`);
    }
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }

  /** The worker's log so far, for failure messages. */
  workerLog() {
    return this.worker?.output.slice(-4000) ?? '';
  }
}
