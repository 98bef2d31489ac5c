// @empplay/client: push render jobs onto empplay's Redis queue and wait
// for their results, as the Go producer (empplay's queue.Client) does.
//
// The wire format is fixed: a job is LPUSHed as JSON onto the queue list
// (playwright-jobs); the worker stores the result JSON at
// {<queue>}:result:<id> (kept 24 h) and pushes it onto {<queue>}:done:<id>
// (kept 10 min), which waiters BLPOP. The JSON Schemas of both are
// schema/job.schema.json and schema/result.schema.json in the repository;
// index.d.ts has the same shapes as TypeScript types.

import { Redis } from 'ioredis';
import { encodeJob, jobId } from './jobid.js';

export { encodeJob, jobId };

/** The queue producers push to when REDIS_QUEUE_NAME is not set. */
export const DEFAULT_QUEUE = 'playwright-jobs';

/** How long a wake-up put back for other waiters is kept, ms. */
const DONE_REPUSH_TTL_MS = 10 * 60 * 1000;

/** How long one BLPOP waits at most, s: a missed wake-up costs no more. */
const POLL_S = 1;

/**
 * The Redis keys of the queue called name. Every key but the list itself
 * carries the hash tag {name}, so a Cluster keeps them in one slot.
 * @param {string} [name]
 */
export function queueKeys(name = DEFAULT_QUEUE) {
  const tag = `{${name}}`;
  return {
    pending: name,
    /** @param {string} id */ result: (id) => `${tag}:result:${id}`,
    /** @param {string} id */ done: (id) => `${tag}:done:${id}`,
    /** @param {string} id */ output: (id) => `${tag}:output:${id}`,
    results: `${tag}:results`,
  };
}

/** No result arrived for the job within the wait's timeout. */
export class WaitTimeoutError extends Error {
  /** @param {string} id @param {number} timeout */
  constructor(id, timeout) {
    super(`no result for job ${id} within ${timeout} ms (the job stays queued)`);
    this.name = 'WaitTimeoutError';
    this.id = id;
    this.timeout = timeout;
  }
}

/** A producer of one queue. */
export class Client {
  /** @type {import('ioredis').Redis | import('ioredis').Cluster} */
  #redis;
  #own;
  #keys;
  /** Connections for BLPOP, which blocks the connection it runs on. */
  #idle = /** @type {Array<import('ioredis').Redis | import('ioredis').Cluster>} */ ([]);
  #all = new Set();
  #closed = false;

  /**
   * @param {object} [options]
   * @param {import('ioredis').Redis | import('ioredis').Cluster} [options.redis]
   *   a connection to use (the client does not close it)
   * @param {string} [options.url] a Redis URL, when no connection is given
   *   [REDIS_URL, else redis://127.0.0.1:6379/0]
   * @param {string} [options.queue] the queue's name [REDIS_QUEUE_NAME,
   *   else playwright-jobs]
   */
  constructor({ redis, url, queue } = {}) {
    this.#own = !redis;
    this.#redis = redis ?? new Redis(url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
    this.#keys = queueKeys(queue ?? process.env.REDIS_QUEUE_NAME ?? DEFAULT_QUEUE);
  }

  /** The queue's name. */
  get queue() {
    return this.#keys.pending;
  }

  /**
   * Pushes job with LPUSH, exactly as the platform does, and returns its
   * id. A string or bytes are pushed as they are; an object as
   * JSON.stringify writes it.
   * @param {unknown} job
   * @returns {Promise<string>}
   */
  async submit(job) {
    const raw = encodeJob(job);
    await this.#redis.lpush(this.#keys.pending, raw);
    return jobId(raw);
  }

  /**
   * The stored result of job id, or null when there is none (yet).
   * @param {string} id
   */
  async result(id) {
    const s = await this.#redis.get(this.#keys.result(id));
    return s === null ? null : JSON.parse(s);
  }

  /**
   * The bytes of an inline job's output while they are kept (10 min), or
   * null.
   * @param {string} id
   */
  async output(id) {
    return this.#redis.getBuffer(this.#keys.output(id));
  }

  /**
   * Waits for the result of job id. Rejects with WaitTimeoutError when
   * none comes within timeout ms; the job stays queued. A failed job
   * resolves too, with success false.
   * @param {string} id
   * @param {{timeout?: number}} [options] timeout in ms [120000]
   */
  async wait(id, { timeout = 120_000 } = {}) {
    const deadline = Date.now() + timeout;
    const done = this.#keys.done(id);
    const conn = this.#take();
    try {
      for (;;) {
        const stored = await this.result(id);
        if (stored !== null) return stored;
        const left = deadline - Date.now();
        if (left <= 0) throw new WaitTimeoutError(id, timeout);
        const popped = await conn.blpop(done, Math.max(0.01, Math.min(POLL_S, left / 1000)));
        if (popped) {
          // Put the wake-up back for other waiters of the same job; the
          // result key stays the source of truth.
          await this.#redis.multi().rpush(done, popped[1]).pexpire(done, DONE_REPUSH_TTL_MS).exec();
          return JSON.parse(popped[1]);
        }
      }
    } finally {
      this.#give(conn);
    }
  }

  /**
   * Submits job and waits for its result.
   * @param {unknown} job
   * @param {{timeout?: number}} [options]
   */
  async render(job, options) {
    return this.wait(await this.submit(job), options);
  }

  /** Closes the connections the client opened. Waits in progress reject. */
  async close() {
    this.#closed = true;
    for (const c of this.#all) c.disconnect();
    this.#all.clear();
    this.#idle = [];
    if (this.#own) await this.#redis.quit();
  }

  #take() {
    if (this.#closed) throw new Error('the client is closed');
    let c = this.#idle.pop();
    if (!c) {
      c = this.#redis.duplicate();
      this.#all.add(c);
    }
    return c;
  }

  /** @param {import('ioredis').Redis | import('ioredis').Cluster} c */
  #give(c) {
    if (this.#closed) c.disconnect();
    else this.#idle.push(c);
  }
}
