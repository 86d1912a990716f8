import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { SANDBOX_BYNDLE_WEBHOOK } from '../../src/app.js';
import { SANDBOX_DEV_API_KEY } from '../../src/security/callers.js';
import { bundleChild } from './bundle.js';
import { GATEWAY_NODE_FLAGS } from './procs.js';
import type { ScenarioOptions, ScenarioRow } from './types.js';

/**
 * Issue 7, S4 and S5: subscriptions, nordgraph against a bare `ws` broadcast (baseline c), both
 * measured the same way in the same run by the same clients.
 *   S5: 5,000 idle subscriptions: RSS per idle subscription (KB) of the server process after a
 *       full GC, over its RSS before any subscriber.
 *   S4: the same server topped up to 10,000 subscribers, then a burst of Byndle webhooks (all
 *       POSTed at once): every subscriber must receive every event (counted), latency from just
 *       before each POST to each subscriber's `next` (one clock: this process), and the ratio of
 *       nordgraph's p99 to bare ws's p99 (target ≤ 1.5).
 *   S4 (Redis): nordgraph with REDIS_URL and a unique EVENTS_KEY_PREFIX, smaller.
 * Servers run in child processes (gateway-child.ts, bare-ws-child.ts) so their RSS is their own.
 * Clients are raw `ws` sockets speaking graphql-transport-ws, one subscription each, sending the
 * sandbox development key and a purpose in connection_init.
 *
 *   npx tsx test/bench/ws.ts [--quick]
 *   env: WS_SUBSCRIBERS (S4, default 10000), WS_IDLE (S5, default 5000), WS_WEBHOOKS (burst size,
 *        default 20), WS_REDIS_SUBSCRIBERS (default 2000; 0 skips the Redis row), REDIS_URL
 *        (default redis://127.0.0.1:6379), WS_SYSTEMS (comma list of nordgraph,bare; default both),
 *        GATEWAY_CPU_PROF=<dir> (CPU profile of the nordgraph process), GATEWAY_HEAP_SNAPSHOTS=<dir>
 *        (heap snapshots at baseline and at S5 idle; their RSS figures are then not valid),
 *        WS_RUNTIME=tsx (servers run under tsx instead of as an esbuild bundle, see bundle.ts)
 * Run directly, it writes test/bench/results/ws.json and prints a markdown table.
 */

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CONNECT_CONCURRENCY = 500;
/** Descriptors this process needs besides one per client socket. */
const FD_MARGIN = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 1_048_576, 1);

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return n;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}

function vmRss(pid: number): number {
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** CPU time (user + system) a process has used, ms: from /proc/<pid>/stat, clock ticks of 10 ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may hold spaces).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// ------------------------------------------------------------------------------ server children

interface Ready {
  type: 'ready';
  wsUrl: string;
  origin: string;
  pid: number;
}
interface ChildStats {
  rss: number;
  heapUsed?: number;
  heapTotal?: number;
  spaces?: Record<string, number>;
  listeners: number | null;
  loopDelay?: { p50: number; p99: number; max: number };
}

/** A server in a child process (gateway-child.ts or bare-ws-child.ts: same IPC protocol). */
class ServerChild {
  private nextId = 1;
  private readonly pending = new Map<number, (s: ChildStats) => void>();
  private constructor(
    readonly child: ChildProcess,
    readonly ready: Ready,
    private readonly snapshots: boolean,
  ) {
    child.on('message', (m: { id?: number } & ChildStats) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
  }

  static async start(script: string, env: Record<string, string>, cpuProfile: boolean): Promise<ServerChild> {
    const profDir = process.env.GATEWAY_CPU_PROF;
    const heapDir = process.env.GATEWAY_HEAP_SNAPSHOTS;
    // As deployed (an esbuild bundle, bundle.ts) unless WS_RUNTIME=tsx.
    const tsx = process.env.WS_RUNTIME === 'tsx';
    const bundled = tsx ? null : await bundleChild(ROOT, `${HERE}${script}`);
    const child = fork(bundled?.path ?? `${HERE}${script}`, [], {
      cwd: ROOT,
      execArgv: [
        // WS_NODE_FLAGS: extra V8/Node flags for both servers (e.g. --max-semi-space-size=32).
        ...(process.env.WS_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        // nordgraph as `npm start` runs it (package.json "start").
        ...(script === 'gateway-child.ts' ? GATEWAY_NODE_FLAGS : []),
        '--expose-gc',
        ...(tsx ? ['--import', 'tsx'] : []),
        ...(cpuProfile && profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
        // SIGUSR2 writes a heap snapshot there (taken at baseline and at S5 idle; diff them).
        ...(heapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    child.once('exit', () => bundled?.dispose());
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s`)), 60_000);
      child.once('exit', (code) => reject(new Error(`${script} exited during start (code ${code})`)));
      child.on('message', (m: { type: string }) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(m as Ready);
      });
    });
    return new ServerChild(child, ready, Boolean(heapDir));
  }

  private ask(type: 'memory' | 'stats'): Promise<ChildStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ type, id });
    });
  }
  /** Full GC in the child, then VmRSS from /proc. */
  async memory(): Promise<ChildStats & { vmRss: number }> {
    const m = await this.ask('memory');
    return { ...m, vmRss: vmRss(this.ready.pid) };
  }
  stats(): Promise<ChildStats> {
    return this.ask('stats');
  }
  /** With GATEWAY_HEAP_SNAPSHOTS=<dir> (nordgraph only): a heap snapshot, written synchronously by the child. */
  async heapSnapshot(): Promise<void> {
    if (!this.snapshots) return;
    this.child.kill('SIGUSR2');
    // The child writes while blocked; a stats answer means it is done.
    await sleep(200);
    await this.stats();
  }
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' });
    await Promise.race([exited, sleep(15_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

// ------------------------------------------------------------------------------ clients

const QUERY =
  'subscription BenchWs { events(filter: { kinds: [PERSON_CHANGED], providers: [BYNDLE] }) { cursor externalId } }';
const INIT = JSON.stringify({
  type: 'connection_init',
  payload: { 'x-api-key': SANDBOX_DEV_API_KEY, 'x-purpose': 'testing' },
});
const SUBSCRIBE = JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } });
const NEXT_PREFIX = Buffer.from('{"id":"1","type":"next"');
const AUTH = `Basic ${Buffer.from(`${SANDBOX_BYNDLE_WEBHOOK.username}:${SANDBOX_BYNDLE_WEBHOOK.password}`).toString('base64')}`;

/** Deliveries of one measured run: one slot per (subscriber, webhook). */
class Tally {
  readonly latency: Float64Array;
  readonly counts: Uint32Array;
  readonly sentAt: Float64Array;
  received = 0;
  duplicates = 0;
  foreign = 0;
  probeCount = 0;
  readonly probe: Uint8Array;
  readonly errors = new Map<string, number>();
  private readonly markBytes: Buffer;
  constructor(
    readonly subscribers: number,
    readonly webhooks: number,
    readonly mark: string,
  ) {
    this.latency = new Float64Array(subscribers * webhooks).fill(NaN);
    this.counts = new Uint32Array(subscribers);
    this.sentAt = new Float64Array(webhooks).fill(NaN);
    this.probe = new Uint8Array(subscribers);
    this.markBytes = Buffer.from(mark);
  }
  /** A `next` text: the webhook index is read from the externalId without a full JSON.parse. */
  onNext(sub: number, text: string, now: number): void {
    this.onNextBuffer(sub, Buffer.from(text), now);
  }
  /** Same on the raw frame, without decoding it to a string. */
  onNextBuffer(sub: number, data: Buffer, now: number): void {
    const at = data.indexOf(this.markBytes);
    if (at < 0 || sub >= this.subscribers) {
      this.foreign++;
      return;
    }
    let index = 0;
    let i = at + this.markBytes.length;
    const negative = data[i] === 0x2d; // '-'
    if (negative) i++;
    for (let c = data[i]; c !== undefined && c >= 0x30 && c <= 0x39; c = data[++i])
      index = index * 10 + c - 0x30;
    if (negative) index = -index;
    if (index === -1) {
      if (this.probe[sub]) this.duplicates++;
      else {
        this.probe[sub] = 1;
        this.probeCount++;
      }
      return;
    }
    if (!(index >= 0 && index < this.webhooks)) {
      this.foreign++;
      return;
    }
    const slot = sub * this.webhooks + index;
    if (!Number.isNaN(this.latency[slot]!)) {
      this.duplicates++;
      return;
    }
    this.latency[slot] = now - this.sentAt[index]!;
    this.counts[sub]!++;
    this.received++;
  }
  error(key: string): void {
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }
}

class Clients {
  readonly sockets: WebSocket[] = [];
  closing = false;
  /** Where `next` messages go; replaced per measured run. */
  tally: Tally | null = null;

  constructor(readonly wsUrl: string) {}

  private openOne(sub: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // UTF-8 validation off: the load generator's cost per message is the same for both systems,
      // but the less it is, the less it caps what the benchmark can see.
      const ws = new WebSocket(this.wsUrl, 'graphql-transport-ws', {
        perMessageDeflate: false,
        skipUTF8Validation: true,
      });
      this.sockets[sub] = ws;
      let subscribed = false;
      ws.on('open', () => ws.send(INIT));
      ws.on('message', (data: Buffer) => {
        const now = performance.now();
        if (subscribed && data.indexOf(NEXT_PREFIX) === 0) {
          this.tally?.onNextBuffer(sub, data, now);
          return;
        }
        const text = data.toString('utf8');
        const msg = JSON.parse(text) as { type: string; payload?: unknown };
        if (msg.type === 'connection_ack' && !subscribed) {
          subscribed = true;
          ws.send(SUBSCRIBE);
          resolve();
        } else if (msg.type === 'ping') ws.send('{"type":"pong"}');
        else if (msg.type === 'next') this.tally?.onNext(sub, text, now);
        else if (msg.type !== 'pong')
          this.tally?.error(`${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 200)}`);
      });
      ws.on('error', (err: Error & { code?: string }) => {
        if (!subscribed) reject(err);
        else this.tally?.error(`socket error ${err.code ?? err.message}`);
      });
      ws.on('close', (code) => {
        if (!subscribed) reject(new Error(`closed during handshake (${code})`));
        else if (!this.closing) this.tally?.error(`closed by server (${code})`);
      });
    });
  }

  /** Opens subscribers [from, to); returns how many opened. */
  async open(from: number, to: number): Promise<number> {
    let next = from;
    let opened = 0;
    const failures = new Map<string, number>();
    const worker = async () => {
      for (let sub = next++; sub < to; sub = next++) {
        try {
          await this.openOne(sub);
          opened++;
        } catch (err) {
          const e = err as Error & { code?: string };
          failures.set(e.code ?? e.message, (failures.get(e.code ?? e.message) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, to - from) }, worker));
    if (failures.size > 0)
      throw new Error(`subscribers failed to open: ${JSON.stringify(Object.fromEntries(failures))}`);
    return opened;
  }

  close(): void {
    this.closing = true;
    for (const ws of this.sockets) ws?.terminate();
  }
}

// ------------------------------------------------------------------------------ webhooks

function byndleDelivery(run: string, i: number): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    ajourholdId: 'AJ-SANDBOX-1',
    deliveryId: `${run}-delivery-${i}`,
    sentAt: now,
    events: [
      {
        eventId: `${run}-event-${i}`,
        eventName: 'telNr.changed',
        occurredAt: now,
        externalId: `${run}-${i}`,
        byndleId: null,
        field: 'landline',
        oldValue: null,
        newValue: '+4722000000',
      },
    ],
  });
}

async function postWebhook(origin: string, run: string, i: number, tally?: Tally): Promise<number> {
  const body = byndleDelivery(run, i);
  if (tally && i >= 0) tally.sentAt[i] = performance.now();
  const res = await fetch(`${origin}/webhooks/byndle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTH },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function waitFor(done: () => boolean, progress: () => number, stallMs: number): Promise<boolean> {
  let last = progress();
  let lastChange = performance.now();
  while (!done()) {
    await sleep(10);
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallMs) return false;
  }
  return true;
}

/** Until the server holds n subscriptions (one tail listener each); gives up after 10 s without progress. */
async function waitRegistered(server: ServerChild, n: number, log: (l: string) => void): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const { listeners } = await server.stats();
    if (listeners === null || listeners >= n) return;
    if (listeners !== last) {
      last = listeners;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 10_000) {
      log(`  only ${listeners}/${n} subscriptions registered (no progress for 10 s)`);
      return;
    }
    await sleep(50);
  }
}

// ------------------------------------------------------------------------------ one system

interface SystemSpec {
  system: string;
  script: 'gateway-child.ts' | 'bare-ws-child.ts';
  env: Record<string, string>;
  /** S5 idle subscriptions (0: no S5 row). */
  idle: number;
  subscribers: number;
  webhooks: number;
  cpuProfile: boolean;
}

interface SystemResult {
  s5: ScenarioRow | null;
  s4: ScenarioRow;
  p99: number;
}

async function runSystem(spec: SystemSpec, log: (l: string) => void): Promise<SystemResult> {
  const run = `ws-${process.pid}-${Date.now()}`;
  log(`${spec.system}: starting`);
  const server = await ServerChild.start(spec.script, spec.env, spec.cpuProfile);
  const { wsUrl, origin } = server.ready;
  try {
    // Warm-up: load and compile the subscription and webhook paths before the baseline.
    {
      const warm = new Clients(wsUrl);
      await warm.open(0, 50);
      await waitRegistered(server, 50, log);
      for (let k = 0; k < 3; k++) await postWebhook(origin, run, -2 - k);
      await sleep(300);
      warm.close();
      await sleep(500);
    }
    const baseline = await server.memory();
    await server.heapSnapshot();

    const clients = new Clients(wsUrl);
    let s5: ScenarioRow | null = null;
    let opened = 0;
    try {
      if (spec.idle > 0) {
        opened = await clients.open(0, spec.idle);
        await waitRegistered(server, opened, log);
        await sleep(1_000);
        const idle = await server.memory();
        await server.heapSnapshot();
        const perSubKb = (idle.vmRss - baseline.vmRss) / opened / 1024;
        const heapKb = ((idle.heapUsed ?? 0) - (baseline.heapUsed ?? 0)) / opened / 1024;
        log(
          `  S5 ${opened} idle: RSS ${mb(baseline.vmRss)} → ${mb(idle.vmRss)} MB, ${round(perSubKb)} KB each; heap used ${round(heapKb)} KB each, heap committed ${mb(baseline.heapTotal ?? 0)} → ${mb(idle.heapTotal ?? 0)} MB (new space ${mb(baseline.spaces?.new_space ?? 0)} → ${mb(idle.spaces?.new_space ?? 0)} MB)`,
        );
        s5 = {
          scenario: 'S5',
          system: spec.system,
          upstreamLatencyMs: 0,
          load: 'n/a',
          rssMb: mb(idle.vmRss),
          extra: {
            idleSubscriptions: opened,
            rssPerIdleSubscriptionKb: round(perSubKb),
            heapPerIdleSubscriptionKb: round(heapKb),
            baselineRssMb: mb(baseline.vmRss),
          },
          notes: 'RSS after full GC over RSS before any subscriber, per idle subscription (target ≤ 8 KB)',
        };
      }

      if (spec.subscribers > opened) opened += await clients.open(opened, spec.subscribers);
      await waitRegistered(server, opened, log);
      const tally = new Tally(opened, spec.webhooks, `"externalId":"${run}-`);
      clients.tally = tally;

      // Probe: one event every subscriber must get, proving every subscription is live.
      await postWebhook(origin, run, -1, tally);
      const probed = await waitFor(
        () => tally.probeCount >= opened,
        () => tally.probeCount,
        30_000,
      );
      if (!probed)
        throw new Error(
          `${spec.system}: the probe event reached only ${tally.probeCount}/${opened} subscribers; client errors: ${JSON.stringify(Object.fromEntries(tally.errors))}`,
        );
      await server.stats(); // resets the child's event-loop delay window

      // The burst: every webhook POSTed at once.
      const cpu0 = cpuMs(server.ready.pid);
      const t0 = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: spec.webhooks }, (_, i) => postWebhook(origin, run, i, tally)),
      );
      const expected = opened * spec.webhooks;
      const complete = await waitFor(
        () => tally.received >= expected,
        () => tally.received,
        15_000,
      );
      const wallMs = performance.now() - t0;
      const serverCpu = cpuMs(server.ready.pid) - cpu0;
      const during = await server.stats();
      await sleep(300); // late duplicates would show here

      const latencies = tally.latency.filter((x) => !Number.isNaN(x)).sort();
      let withAll = 0;
      for (let s = 0; s < opened; s++) if (tally.counts[s] === spec.webhooks) withAll++;
      const bad = statuses.filter((s) => s < 200 || s >= 300).length;
      const p99 = percentile(latencies, 99);
      log(
        `  S4 ${opened} × ${spec.webhooks}: ${tally.received}/${expected} delivered, p50 ${round(percentile(latencies, 50))} p99 ${round(p99)} ms, ${Math.round(wallMs)} ms wall, server CPU ${serverCpu} ms`,
      );
      const s4: ScenarioRow = {
        scenario: 'S4',
        system: spec.system,
        upstreamLatencyMs: 0,
        load: 'n/a',
        throughputRps: Math.round((tally.received / wallMs) * 1_000),
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(p99),
        rssMb: mb(during.rss),
        extra: {
          subscribers: opened,
          webhooks: spec.webhooks,
          delivered: tally.received,
          expected,
          missing: expected - tally.received,
          duplicates: tally.duplicates,
          subscribersWithEveryEvent: withAll,
          webhookNon2xx: bad,
          maxMs: round(latencies[latencies.length - 1] ?? NaN),
          wallMs: Math.round(wallMs),
          // CPU time per delivery hardly depends on what else the machine runs; latency does.
          serverCpuUsPerDelivery: round((serverCpu * 1_000) / Math.max(1, tally.received), 1),
          serverLoopDelayP99Ms: during.loopDelay?.p99 ?? 'n/a',
          ...(tally.errors.size > 0
            ? { protocolErrors: JSON.stringify(Object.fromEntries(tally.errors)) }
            : {}),
          ...(complete ? {} : { incomplete: 'no progress for 15 s' }),
        },
        notes:
          'throughputRps = deliveries per second; latency from just before the webhook POST to each next message',
      };
      return { s5, s4, p99 };
    } finally {
      clients.close();
    }
  } finally {
    await server.close();
  }
}

// ------------------------------------------------------------------------------ scenario

/**
 * All clients are one caller (the sandbox key), so the per-caller rate limit (600/min by
 * default) would refuse most of 10,000 subscribes: S4/S5 measure the fan-out, not the limiter.
 */
const NORDGRAPH_ENV = { RATE_LIMIT_PER_MINUTE: '0' };

export async function run(options: ScenarioOptions): Promise<ScenarioRow[]> {
  const { quick, log } = options;
  let subscribers = envInt('WS_SUBSCRIBERS', quick ? 1_000 : 10_000);
  const idle = Math.min(envInt('WS_IDLE', quick ? 500 : 5_000), subscribers);
  const webhooks = envInt('WS_WEBHOOKS', quick ? 10 : 20);
  const redisSubscribers = envInt('WS_REDIS_SUBSCRIBERS', quick ? 200 : 2_000);
  const systems = (process.env.WS_SYSTEMS ?? 'nordgraph,bare').split(',');
  const fdLimit = openFileLimit();
  if (fdLimit !== null && subscribers + FD_MARGIN > fdLimit) {
    subscribers = fdLimit - FD_MARGIN;
    log(`open-file limit ${fdLimit}: running ${subscribers} subscribers (raise with ulimit -n)`);
  }

  const rows: ScenarioRow[] = [];
  const common = { idle, subscribers, webhooks };
  const bare = systems.includes('bare')
    ? await runSystem(
        {
          system: 'bare ws',
          script: 'bare-ws-child.ts',
          env: { BARE_WS_AUTH: AUTH },
          cpuProfile: false,
          ...common,
        },
        log,
      )
    : null;
  const nordgraph = systems.includes('nordgraph')
    ? await runSystem(
        { system: 'nordgraph', script: 'gateway-child.ts', env: NORDGRAPH_ENV, cpuProfile: true, ...common },
        log,
      )
    : null;
  if (nordgraph && bare) {
    const ratio = round(nordgraph.p99 / bare.p99);
    nordgraph.s4.extra = { ...nordgraph.s4.extra, p99VsBareWs: ratio };
    const kb = (r: SystemResult) => Number(r.s5?.extra?.rssPerIdleSubscriptionKb ?? NaN);
    if (nordgraph.s5 && bare.s5)
      nordgraph.s5.extra = { ...nordgraph.s5.extra, vsBareWsKb: round(kb(nordgraph) - kb(bare)) };
    log(`S4 p99 nordgraph / bare ws = ${ratio} (target ≤ 1.5)`);
  }
  for (const r of [nordgraph, bare]) {
    if (!r) continue;
    if (r.s5) rows.push(r.s5);
  }
  for (const r of [nordgraph, bare]) if (r) rows.push(r.s4);

  if (redisSubscribers > 0 && systems.includes('nordgraph')) {
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const redis = await runSystem(
      {
        system: 'nordgraph (Redis)',
        script: 'gateway-child.ts',
        env: {
          ...NORDGRAPH_ENV,
          REDIS_URL: redisUrl,
          EVENTS_KEY_PREFIX: `bench:ws:${process.pid}:${Date.now()}:`,
        },
        cpuProfile: false,
        idle: 0,
        subscribers: Math.min(redisSubscribers, subscribers),
        webhooks: Math.min(webhooks, 20),
      },
      log,
    );
    rows.push(redis.s4);
  }
  return rows;
}

// ------------------------------------------------------------------------------ CLI

function table(rows: ScenarioRow[]): string {
  const lines = [
    '| Scenario | System | Subscribers | Delivered / expected | p50 ms | p99 ms | Deliveries/s | RSS MB | KB per idle sub | p99 vs bare ws |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const x = r.extra ?? {};
    lines.push(
      `| ${r.scenario} | ${r.system} | ${x.subscribers ?? x.idleSubscriptions ?? ''} | ${x.delivered !== undefined ? `${x.delivered} / ${x.expected}` : ''} | ${r.p50Ms ?? ''} | ${r.p99Ms ?? ''} | ${r.throughputRps ?? ''} | ${r.rssMb ?? ''} | ${x.rssPerIdleSubscriptionKb ?? ''} | ${x.p99VsBareWs ?? ''} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  run({ quick, log: (l) => process.stderr.write(`${l}\n`) }).then(
    (rows) => {
      mkdirSync(`${HERE}results`, { recursive: true });
      writeFileSync(
        `${HERE}results/ws.json`,
        `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`,
      );
      process.stdout.write(`${table(rows)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`ws benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
