// Helper of scripts/bench.sh (no dependencies: Node 20's net and fetch).
//
//   node scripts/bench-queue.mjs run    --sketch FILE --count N --section S --name NAME --round R
//       LPUSHes N jobs of the sketch at once (fresh ids), waits for every
//       result (the worker stores it only after the CDN URL serves the PNG),
//       checks that every src serves the bytes, and prints one JSON row:
//       jobs/s = N / (first LPUSH -> last result), per-job figures from the
//       results' timings (renderMs: pickup -> PNG bytes; totalMs: pickup ->
//       result, upload and CDN check included) and LPUSH -> result.
//   node scripts/bench-queue.mjs peer   --who playwright|puppeteer --section S --name NAME --round R < peer output
//       turns a peer's printout into the same JSON row.
//   node scripts/bench-queue.mjs report ROWS.jsonl
//       prints the tables and the RESULT lines.
//
// Environment: REDIS_URL (redis://host:port/db), REDIS_QUEUE_NAME
// (default playwright-jobs), BENCH_RUN (a run tag for the job ids),
// BENCH_TIMEOUT_S (default 300: how long to wait for one batch).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from './resp.mjs';

const now = () => performance.now();

function stats(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return { n: 0, p50: NaN, p90: NaN };
  const p50 = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  // the same p90 as the peers' lib.mjs: the ceil(0.9 n)-th smallest
  return { n: s.length, p50, p90: s[Math.ceil(0.9 * s.length) - 1] };
}
const median = (xs) => stats(xs).p50;


// ---- run: one batch through the queue ----------------------------------------

async function run(o) {
  const queue = process.env.REDIS_QUEUE_NAME || 'playwright-jobs';
  const tag = `{${queue}}`;
  const runTag = process.env.BENCH_RUN || String(Date.now());
  const timeoutMs = 1000 * Number(process.env.BENCH_TIMEOUT_S || 300);
  const code = fs.readFileSync(o.sketch, 'utf8');
  const n = Number(o.count);
  const prefix = `${runTag}/${o.section}-${o.name}-r${o.round}`;
  const jobs = Array.from({ length: n }, (_, i) => ({
    id: `bench-${runTag}-${o.section}-${o.name}-r${o.round}-${i}`,
    type: 'p5', code, width: Number(o.width), height: Number(o.height),
    bucket: 'bench', prefix, filename: `${String(i).padStart(3, '0')}.png`,
  }));
  const want = new Map(jobs.map((j) => [j.id, null]));

  const cmd = await new Redis(process.env.REDIS_URL).init();
  const sub = await new Redis(process.env.REDIS_URL).init();
  let left = n, done;
  const allIn = new Promise((res) => { done = res; });
  const arrived = new Map();
  sub.onPush = (_channel, msg) => {
    const t = now();
    let r;
    try { r = JSON.parse(msg); } catch { return; }
    if (!want.has(r.id) || arrived.has(r.id)) return;
    arrived.set(r.id, { t, r });
    if (--left === 0) done();
  };
  await sub.cmd('SUBSCRIBE', `${tag}:results`);

  const t0 = now();
  await cmd.cmd('LPUSH', queue, ...jobs.map((j) => JSON.stringify(j)));
  let timer;
  const timedOut = await Promise.race([
    allIn.then(() => false),
    new Promise((res) => { timer = setTimeout(() => res(true), timeoutMs); }),
  ]);
  clearTimeout(timer);
  // A result published before SUBSCRIBE took effect (or a lost message) is
  // still stored: fetch what pub/sub did not deliver.
  for (const j of jobs) {
    if (arrived.has(j.id)) continue;
    const s = await cmd.cmd('GET', `${tag}:result:${j.id}`);
    if (s) arrived.set(j.id, { t: now(), r: JSON.parse(s) });
  }
  const tEnd = Math.max(...[...arrived.values()].map((a) => a.t), t0);
  sub.close();
  cmd.close();

  const results = jobs.map((j) => arrived.get(j.id)).filter(Boolean);
  const ok = results.filter((a) => a.r.success);
  const errors = results.filter((a) => !a.r.success).map((a) => `${a.r.errorCode}: ${a.r.error}`);
  if (timedOut) errors.push(`${n - results.length} of ${n} results missing after ${timeoutMs / 1000}s`);

  // The worker verified each URL before storing its result; check again from
  // here (outside the timed span) that every src serves the same bytes.
  let served = 0;
  for (const a of ok) {
    try {
      const resp = await fetch(a.r.src);
      const body = Buffer.from(await resp.arrayBuffer());
      if (resp.ok && body.length === a.r.bytes) served++;
      else errors.push(`${a.r.src}: HTTP ${resp.status}, ${body.length} bytes (want ${a.r.bytes})`);
    } catch (e) {
      errors.push(`${a.r.src}: ${e.message}`);
    }
  }

  const wallMs = tEnd - t0;
  const render = stats(ok.map((a) => a.r.timings.renderMs));
  const total = stats(ok.map((a) => a.r.timings.totalMs));
  const e2e = stats(ok.map((a) => a.t - t0));
  const row = {
    section: o.section, name: o.name, round: Number(o.round), who: 'empplay',
    n, ok: ok.length, served, wall_ms: wallMs,
    jobs_per_s: ok.length === n ? n / (wallMs / 1000) : NaN,
    p50: render.p50, p90: render.p90,
    total_p50: total.p50, total_p90: total.p90,
    upload_p50: median(ok.map((a) => a.r.timings.uploadMs)),
    verify_p50: median(ok.map((a) => a.r.timings.verifyMs)),
    e2e_p50: e2e.p50, e2e_p90: e2e.p90,
    trigger: [...new Set(ok.map((a) => a.r.trigger))].join(','),
    bytes: median(ok.map((a) => a.r.bytes)),
    errors: errors.slice(0, 5),
  };
  console.log(JSON.stringify(row));
  if (errors.length) process.exitCode = 1;
}

// ---- peer: parse a peer's printout --------------------------------------------

function peer(o) {
  const text = fs.readFileSync(0, 'utf8');
  const wall = text.match(/total wall(?: \(jobs only\))?\s+(\d+) ms/);
  const per = text.match(/per job, start -> PNG\s+median ([\d.]+) ms \(min [\d.]+, max [\d.]+, p90 ([\d.]+), n=(\d+)\)/);
  const res = text.match(/^RESULT \S+ median_ms=([\d.]+) jobs_per_s=([\d.]+)/m);
  if (!wall || !per || !res) {
    process.stderr.write(`bench: could not read the ${o.who} peer's output:\n${text}\n`);
    process.exit(1);
  }
  const n = Number(per[3]);
  const wallMs = Number(wall[1]);
  console.log(JSON.stringify({
    section: o.section, name: o.name, round: Number(o.round), who: o.who,
    n, ok: n, wall_ms: wallMs, jobs_per_s: n / (wallMs / 1000), p50: Number(per[1]), p90: Number(per[2]),
  }));
}

// ---- report -------------------------------------------------------------------

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pad = (s, w) => String(s).padStart(w);
const padR = (s, w) => String(s).padEnd(w);

function report(file) {
  const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const results = [];
  let failures = 0;
  for (const r of rows) if (r.errors?.length || r.ok !== r.n) failures++;

  const header = `${padR('round', 6)} ${padR('contender', 11)} ${pad('n', 4)} ${pad('jobs/s', 7)} ${pad('p50 ms', 8)} ${pad('p90 ms', 8)}   ${'empplay: pickup->result p50/p90, upload+verify p50, LPUSH->result p50, trigger'}`;
  const line = (round, r) => {
    let s = `${padR(round, 6)} ${padR(r.who, 11)} ${pad(r.n, 4)} ${pad(f(r.jobs_per_s, 2), 7)} ${pad(f(r.p50), 8)} ${pad(f(r.p90), 8)}`;
    if (r.who === 'empplay') s += `   ${f(r.total_p50)}/${f(r.total_p90)}, ${f(r.upload_p50)}+${f(r.verify_p50)}, ${f(r.e2e_p50)}${r.trigger ? `, ${r.trigger}` : ''}`;
    if (r.errors?.length) s += `   FAILED: ${r.errors.join('; ')}`;
    return s;
  };
  const ratioLine = (label, e, p, q) => {
    const parts = [];
    if (e && p) parts.push(`empplay/playwright jobs/s ${f(e.jobs_per_s / p.jobs_per_s, 2)}x, playwright p50 / empplay p50 ${f(p.p50 / e.p50, 2)}x`);
    if (e && q) parts.push(`empplay/puppeteer jobs/s ${f(e.jobs_per_s / q.jobs_per_s, 2)}x, puppeteer p50 / empplay p50 ${f(q.p50 / e.p50, 2)}x`);
    return `${padR(label, 6)} ${padR('ratios', 11)} ${parts.join('; ')}`;
  };

  for (const section of [...new Set(rows.map((r) => r.section))]) {
    for (const name of [...new Set(rows.filter((r) => r.section === section).map((r) => r.name))]) {
      const rs = rows.filter((r) => r.section === section && r.name === name);
      const rounds = [...new Set(rs.map((r) => r.round))].sort((a, b) => a - b);
      const whos = ['playwright', 'puppeteer', 'empplay'].filter((w) => rs.some((r) => r.who === w));
      console.log('');
      console.log(`== ${section}: ${name} (${rounds.length} round${rounds.length > 1 ? 's' : ''}, ${rs[0].n} jobs per contender and round)`);
      console.log(header);
      const per = { jobs: [], p50: [], qjobs: [], qp50: [] };
      for (const round of rounds) {
        const get = (w) => rs.find((r) => r.round === round && r.who === w);
        for (const w of whos) if (get(w)) console.log(line(round, get(w)));
        const e = get('empplay'), p = get('playwright'), q = get('puppeteer');
        if (e && p) { per.jobs.push(e.jobs_per_s / p.jobs_per_s); per.p50.push(p.p50 / e.p50); }
        if (e && q) { per.qjobs.push(e.jobs_per_s / q.jobs_per_s); per.qp50.push(q.p50 / e.p50); }
        if (e && (p || q)) console.log(ratioLine(round, e, p, q));
      }
      // medians over the rounds, each figure on its own
      const med = {};
      for (const w of whos) {
        const mine = rs.filter((r) => r.who === w);
        const m = { who: w, n: mine[0].n };
        for (const k of ['jobs_per_s', 'p50', 'p90', 'total_p50', 'total_p90', 'upload_p50', 'verify_p50', 'e2e_p50']) m[k] = median(mine.map((r) => r[k]));
        med[w] = m;
        if (rounds.length > 1) console.log(line('median', m));
      }
      // the headline ratios: the median of the same-round ratios
      const rj = median(per.jobs), rp = median(per.p50);
      if (per.jobs.length && rounds.length > 1) {
        let s = `${padR('median', 6)} ${padR('ratios', 11)} empplay/playwright jobs/s ${f(rj, 2)}x, playwright p50 / empplay p50 ${f(rp, 2)}x`;
        if (per.qjobs.length) s += `; empplay/puppeteer jobs/s ${f(median(per.qjobs), 2)}x, puppeteer p50 / empplay p50 ${f(median(per.qp50), 2)}x`;
        console.log(s + '  (median of same-round ratios)');
      }
      const e = med.empplay, p = med.playwright, q = med.puppeteer;
      let res = `RESULT bench ${section === 'static' ? 'static' : `${section}-${name}`} ratio_jobs_per_s=${f(rj, 2)} ratio_p50=${f(rp, 2)}`;
      if (e) res += ` empplay_jobs_per_s=${f(e.jobs_per_s, 3)} empplay_p50_ms=${f(e.p50)} empplay_total_p50_ms=${f(e.total_p50)}`;
      if (p) res += ` playwright_jobs_per_s=${f(p.jobs_per_s, 3)} playwright_p50_ms=${f(p.p50)}`;
      if (q) res += ` puppeteer_jobs_per_s=${f(q.jobs_per_s, 3)} puppeteer_p50_ms=${f(q.p50)}`;
      if (section === 'static') {
        // The static still's target: 5x the peer's jobs/s and a fifth of
        // its p50 (the first target, 3x, was met; docs/rendering.md).
        const met = rj >= 5 && rp >= 5;
        console.log(`target (empplay >= 5x playwright jobs/s and p50 <= 1/5 of playwright's): ${met ? 'MET' : 'NOT MET'}`);
        res += ` target_met=${met ? 'yes' : 'no'}`;
      }
      results.push(res + ` rounds=${rounds.length} n=${rs[0].n}`);
    }
  }
  console.log('');
  console.log('jobs/s: N jobs / wall time. empplay: from the first LPUSH of the batch until the last result is in Redis');
  console.log('  (stored only after its CDN URL served the PNG; one warm worker). peers: their own wall time for');
  console.log('  rendering only (playwright excludes its one browser launch; puppeteer launches per job).');
  console.log('p50/p90: per job, pickup (peer: job start) -> PNG bytes in hand (empplay: the result\'s timings.renderMs).');
  for (const r of results) console.log(r);
  if (failures) {
    console.log(`bench: ${failures} batch(es) had failed or missing jobs; see FAILED above`);
    process.exitCode = 1;
  }
}

// ---- main ---------------------------------------------------------------------

const [command, ...rest] = process.argv.slice(2);
const { values: o, positionals } = parseArgs({
  args: rest, allowPositionals: true,
  options: {
    sketch: { type: 'string' }, count: { type: 'string', default: '30' },
    width: { type: 'string', default: '800' }, height: { type: 'string', default: '800' },
    section: { type: 'string', default: 'static' }, name: { type: 'string', default: 'static' },
    round: { type: 'string', default: '0' }, who: { type: 'string' },
  },
});
if (command === 'run') await run(o);
else if (command === 'peer') peer(o);
else if (command === 'report') report(positionals[0]);
else { console.error('usage: bench-queue.mjs run|peer|report ...'); process.exit(2); }
