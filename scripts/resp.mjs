// A minimal RESP2 client for the benchmark scripts (no dependencies:
// Node 20's net), shared by bench-queue.mjs and bench-e2e.mjs.
import net from 'node:net';

export function parseReply(buf, i) {
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return [line, next];
    case '-': return [new Error(line), next];
    case ':': return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return null;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const len = Number(line);
      if (len < 0) return [null, next];
      const out = [];
      let j = next;
      for (let k = 0; k < len; k++) {
        const r = parseReply(buf, j);
        if (!r) return null;
        out.push(r[0]);
        j = r[1];
      }
      return [out, j];
    }
  }
  throw new Error(`redis: unexpected reply type ${JSON.stringify(type)}`);
}

export class Redis {
  constructor(url) {
    const u = new URL(url);
    if (u.protocol !== 'redis:') throw new Error(`REDIS_URL must be redis://host:port/db, got ${url}`);
    this.db = Number(u.pathname.slice(1) || 0);
    this.sock = net.createConnection({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.onPush = null; // pub/sub messages
    this.ready = new Promise((res, rej) => { this.sock.once('connect', res); this.sock.once('error', rej); });
    this.sock.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      for (;;) {
        const r = parseReply(this.buf, 0);
        if (!r) break;
        this.buf = this.buf.subarray(r[1]);
        const v = r[0];
        if (this.onPush && Array.isArray(v) && v[0] === 'message') this.onPush(v[1], v[2]);
        else {
          const w = this.waiting.shift();
          if (w) (v instanceof Error ? w.rej(v) : w.res(v));
        }
      }
    });
    this.sock.on('error', (e) => { for (const w of this.waiting.splice(0)) w.rej(e); });
  }
  async init() { await this.ready; if (this.db) await this.cmd('SELECT', String(this.db)); return this; }
  cmd(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n`, a, '\r\n');
    return new Promise((res, rej) => { this.waiting.push({ res, rej }); this.sock.write(parts.join('')); });
  }
  close() { this.sock.destroy(); }
}
