// Helper of scripts/bench-e2e.sh (no dependencies: Node 20's net, through resp.mjs).
//
//   node scripts/bench-e2e.mjs run --count N --workers W --concurrency C --log FILE
//       pushes N jobs of a fixed mix (p5 2D, animated, WEBGL, text; js PNG
//       and js PNG+HTML), at most C outstanding at once (0: all at once),
//       waits for every result and prints one JSON row: per job, the time
//       of its LPUSH, of its result's arrival, and the result's timings.
//   node scripts/bench-e2e.mjs report ROWS.jsonl
//       prints the tables, reading each row's per-stage figures from the
//       "job finished" lines of its supervisor log (FILE above).
//
// Environment: REDIS_URL (redis://host:port/db), REDIS_QUEUE_NAME
// (default playwright-jobs), BENCH_SIZE (viewport, default 512),
// BENCH_TIMEOUT_S (default 300).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from './resp.mjs';

// Wall-clock milliseconds with sub-millisecond resolution: the worker's
// finishedAt is wall-clock too, on the same host.
const wall = () => performance.timeOrigin + performance.now();


// ---- the job mix ---------------------------------------------------------------

function mix(size) {
  const sketch = (f) => fs.readFileSync(`examples/bench/${f}`, 'utf8');
  const page = `<canvas id=c width=${size} height=${size}></canvas>`;
  const draw = `const g=c.getContext('2d');for(let i=0;i<400;i++){g.fillStyle='hsl('+(i*7%360)+',70%,50%)';g.fillRect((i*37)%${size},(i*91)%${size},24,24)}`;
  return [
    ['p5 static', { type: 'p5', code: sketch('static-2d.js') }],
    ['p5 animated', { type: 'p5', code: sketch('animated-2d.js') }],
    ['p5 webgl', { type: 'p5', code: sketch('webgl-shader.js'), usesWebGL: true }],
    ['p5 text', { type: 'p5', code: sketch('text.js') }],
    ['js png', { type: 'js', html: page, javascript: draw }],
    ['js both', { type: 'js', html: page, javascript: draw, outputType: 'both' }],
  ];
}

// finishedAt (RFC 3339 with nanoseconds) in wall-clock milliseconds.
function parseTime(s) {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  return Date.parse(m[1] + m[3]) + (m[2] ? Number(m[2]) * 1000 : 0);
}

async function run(o) {
  const queue = process.env.REDIS_QUEUE_NAME || 'playwright-jobs';
  const channel = `{${queue}}:results`;
  const size = Number(process.env.BENCH_SIZE || 512);
  const timeoutMs = 1000 * Number(process.env.BENCH_TIMEOUT_S || 300);
  const n = Number(o.count);
  const conc = Number(o.concurrency) || n;
  const runTag = `${Date.now()}-w${o.workers}`;
  const kinds = mix(size);
  const jobs = Array.from({ length: n }, (_, i) => {
    const [kind, j] = kinds[i % kinds.length];
    return {
      kind,
      payload: {
        ...j, id: `e2e-${runTag}-${i}`, width: size, height: size,
        bucket: 'bench', prefix: `e2e/${runTag}`, filename: `${String(i).padStart(4, '0')}.png`,
      },
    };
  });

  const cmd = await new Redis(process.env.REDIS_URL).init();
  const sub = await new Redis(process.env.REDIS_URL).init();
  const byId = new Map(jobs.map((j) => [j.payload.id, j]));
  let next = 0, left = n, done;
  const allIn = new Promise((res) => { done = res; });
  const push = async () => {
    const j = jobs[next++];
    j.pushed = wall();
    await cmd.cmd('LPUSH', queue, JSON.stringify(j.payload));
  };
  sub.onPush = (_channel, msg) => {
    const t = wall();
    let r;
    try { r = JSON.parse(msg); } catch { return; }
    const j = byId.get(r.id);
    if (!j || j.arrived) return;
    j.arrived = t;
    j.result = r;
    if (--left === 0) done();
    else if (next < n) push();
  };
  await sub.cmd('SUBSCRIBE', channel);

  const t0 = wall();
  const first = [];
  while (next < Math.min(conc, n)) first.push(push());
  await Promise.all(first);
  let timer;
  const timedOut = await Promise.race([
    allIn.then(() => false),
    new Promise((res) => { timer = setTimeout(() => res(true), timeoutMs); }),
  ]);
  clearTimeout(timer);
  const tEnd = Math.max(t0, ...jobs.map((j) => j.arrived || 0));
  sub.close();
  cmd.close();
  if (timedOut) {
    console.error(`bench-e2e: ${left} of ${n} results missing after ${timeoutMs / 1000}s`);
    process.exitCode = 1;
  }
  const failed = jobs.filter((j) => j.result && !j.result.success);
  for (const j of failed) console.error(`bench-e2e: ${j.kind} failed: ${j.result.errorCode}: ${j.result.error}`);
  console.log(JSON.stringify({
    workers: Number(o.workers), concurrency: conc, n, log: o.log, wallMs: tEnd - t0,
    jobs: jobs.filter((j) => j.result).map((j) => {
      const r = j.result;
      const finished = parseTime(r.finishedAt);
      const pickup = finished - r.timings.totalMs;
      return {
        id: r.id, kind: j.kind, success: r.success,
        e2e: j.arrived - j.pushed, queue: pickup - j.pushed, result: j.arrived - finished, total: r.timings.totalMs,
      };
    }),
  }));
}

// ---- report ---------------------------------------------------------------------

function pct(xs, p) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
}
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, w) => String(s).padStart(w);
const padR = (s, w) => String(s).padEnd(w);

// stages reads the stages_ms of each job of ids from a supervisor's JSON log.
function stages(file, ids) {
  const out = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"job finished"')) continue;
    let l;
    try { l = JSON.parse(line); } catch { continue; }
    if (ids.has(l.job_id) && (l.outcome === 'success' || l.outcome === 'failed')) out.set(l.job_id, l.stages_ms || {});
  }
  return out;
}

const STAGES = ['browser_acquire', 'page_load', 'ready', 'capture', 'encode', 'upload', 'verify'];

function report(file) {
  const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const summary = [];
  for (const row of rows) {
    const ok = row.jobs.filter((j) => j.success);
    const st = stages(row.log, new Set(ok.map((j) => j.id)));
    const jobsPerS = row.jobs.length / (row.wallMs / 1000);
    summary.push([row.workers, jobsPerS]);
    const kinds = [...new Set(row.jobs.map((j) => j.kind))].join(', ');
    console.log(`\n== ${row.workers} worker(s): ${row.n} jobs (${kinds}), ${row.concurrency} outstanding at a time`);
    console.log(`jobs/s ${f(jobsPerS, 2)}   LPUSH->result p50 ${f(pct(ok.map((j) => j.e2e), 0.5))} ms, p95 ${f(pct(ok.map((j) => j.e2e), 0.95))} ms` +
      `   (${row.jobs.length - ok.length} failed, not counted)`);
    console.log(`${padR('stage', 44)} ${pad('n', 4)} ${pad('p50 ms', 8)} ${pad('p95 ms', 8)} ${pad('mean ms', 8)}`);
    const line = (name, xs) => console.log(`${padR(name, 44)} ${pad(xs.length, 4)} ${pad(f(pct(xs, 0.5)), 8)} ${pad(f(pct(xs, 0.95)), 8)} ${pad(f(mean(xs)), 8)}`);
    const stageOf = (j, s) => (st.get(j.id) || {})[s];
    line('queue (LPUSH -> pickup, measured here)', ok.map((j) => j.queue));
    for (const s of STAGES) line(`  ${s}`, ok.map((j) => stageOf(j, s)).filter((x) => x !== undefined));
    line('result (finishedAt -> result received)', ok.map((j) => j.result));
    line('worker pickup -> result (timings.totalMs)', ok.map((j) => j.total));
    const overhead = ok.map((j) => j.queue + (stageOf(j, 'upload') || 0) + (stageOf(j, 'verify') || 0) + j.result);
    line('non-browser: queue + upload + verify + result', overhead);
    line('LPUSH -> result', ok.map((j) => j.e2e));
    if (st.size < ok.length) console.log(`(${ok.length - st.size} jobs had no "job finished" line in ${row.log})`);
  }
  if (summary.length > 1) {
    const [w0, r0] = summary[0];
    console.log('');
    for (const [w, r] of summary.slice(1)) console.log(`scaling: ${w} workers give ${f(r / r0, 2)}x the jobs/s of ${w0} (${f(r, 2)} vs ${f(r0, 2)})`);
  }
}

const [command, ...rest] = process.argv.slice(2);
const { values: o, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: {
    count: { type: 'string', default: '30' },
    workers: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '0' },
    log: { type: 'string', default: '' },
  },
});
if (command === 'run') await run(o);
else if (command === 'report') report(positionals[0]);
else {
  console.error('usage: bench-e2e.mjs run --count N --workers W --concurrency C --log FILE | report ROWS.jsonl');
  process.exit(2);
}
