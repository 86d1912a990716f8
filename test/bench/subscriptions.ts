import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SANDBOX_BYNDLE_WEBHOOK } from '../../src/app.js';

/**
 * Subscription benchmark (issue 5's figures; scenario S4/S5 of issue 7's `npm run bench`):
 * N idle graphql-ws subscribers on one nordgraph instance, then W Byndle webhooks.
 *   - every subscriber must receive every webhook's event exactly once (counted, missing listed);
 *   - latency from just before the webhook POST to each subscriber's `next` message, one clock
 *     (this process);
 *   - RSS of the gateway process per 1,000 idle subscriptions (/proc/<pid>/status, after GC).
 * nordgraph + sandbox run in a child process (gateway-child.ts) so its RSS is not the load
 * generator's. Subscribers are raw `ws` sockets speaking graphql-transport-ws (connection_init →
 * connection_ack → subscribe → next), far lighter than 10,000 graphql-ws clients.
 *
 *   npx tsx test/bench/subscriptions.ts [--subscribers=10000] [--webhooks=100] [--rate=1]
 *   env: SUBSCRIBERS, WEBHOOKS, WEBHOOK_RATE (webhooks per second; 0 = one burst, all at once),
 *        CONNECT_CONCURRENCY (handshakes in flight, default 500), REDIS_URL (passed to the gateway),
 *        GATEWAY_CPU_PROF=<dir> (write a CPU profile of the gateway process there)
 * Writes test/bench/results/subscriptions.json and prints a markdown table.
 */

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = `${HERE}results/subscriptions.json`;
/** File descriptors the load generator needs besides one per subscriber (stdio, fetch, IPC, tsx). */
const FD_MARGIN = 200;

function option(name: string, envName: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = arg ? arg.slice(name.length + 3) : process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return n;
}

const requested = option('subscribers', 'SUBSCRIBERS', 10_000);
const WEBHOOKS = option('webhooks', 'WEBHOOKS', 100);
const RATE = option('rate', 'WEBHOOK_RATE', 1);
const CONCURRENCY = Math.max(1, option('concurrency', 'CONNECT_CONCURRENCY', 500));

/** Soft limit on open files of this process (the child inherits it): one socket per subscriber each side. */
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

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

// ------------------------------------------------------------------------------ gateway child

interface Ready {
  type: 'ready';
  url: string;
  wsUrl: string;
  origin: string;
  pid: number;
}
interface ChildStats {
  rss: number;
  heapUsed?: number;
  external?: number;
  listeners: number | null;
  loopDelay?: { p50: number; p99: number; max: number };
}

class Gateway {
  private nextId = 1;
  private readonly pending = new Map<number, (s: ChildStats) => void>();
  private constructor(
    readonly child: ChildProcess,
    readonly ready: Ready,
  ) {
    child.on('message', (m: { type: string; id?: number } & ChildStats) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
  }

  static async start(): Promise<Gateway> {
    const child = fork(`${HERE}gateway-child.ts`, [], {
      cwd: ROOT,
      // GATEWAY_CPU_PROF=<dir>: a V8 CPU profile of the gateway (open in Chrome DevTools / speedscope).
      execArgv: [
        '--expose-gc',
        '--import',
        'tsx',
        ...(process.env.GATEWAY_CPU_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GATEWAY_CPU_PROF}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env },
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway did not start within 60 s')), 60_000);
      child.once('exit', (code) => reject(new Error(`gateway exited during start (code ${code})`)));
      child.on('message', (m: { type: string }) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(m as Ready);
      });
    });
    return new Gateway(child, ready);
  }

  private ask(type: 'memory' | 'stats'): Promise<ChildStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ type, id });
    });
  }
  /** Full GC in the child, then its memory; RSS read from /proc as well. */
  async memory(): Promise<ChildStats & { vmRss: number }> {
    const m = await this.ask('memory');
    return { ...m, vmRss: rssOf(this.ready.pid) };
  }
  stats(): Promise<ChildStats> {
    return this.ask('stats');
  }
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' });
    await Promise.race([exited, sleep(10_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

// ------------------------------------------------------------------------------ subscribers

const QUERY =
  'subscription Bench { events(filter: { kinds: [PERSON_CHANGED], providers: [BYNDLE] }) { cursor externalId } }';
const RUN = `bench-${process.pid}-${Date.now()}`;
/** Webhook i's event carries externalId `${RUN}-${i}`; index -1 is the probe. */
const externalIdOf = (i: number) => `${RUN}-${i}`;
const EXTERNAL_ID_MARK = `"externalId":"${RUN}-`;

interface Tally {
  /** Per subscriber, per webhook: receipt time minus send time (ms); NaN = not (yet) received. */
  latency: Float64Array;
  /** Per subscriber: webhook events received (duplicates not counted twice). */
  counts: Uint32Array;
  probe: Uint8Array;
  /** Per subscriber: 1 once its subscribe message is sent. */
  open: Uint8Array;
  probeCount: number;
  received: number;
  duplicates: number;
  /** next messages for events that are not this run's webhooks (other traffic). */
  foreign: number;
  /** error / complete messages, and sockets closed while the run was on. */
  errors: Map<string, number>;
  sentAt: Float64Array;
}

function newTally(n: number): Tally {
  return {
    latency: new Float64Array(n * WEBHOOKS).fill(NaN),
    counts: new Uint32Array(n),
    probe: new Uint8Array(n),
    open: new Uint8Array(n),
    probeCount: 0,
    received: 0,
    duplicates: 0,
    foreign: 0,
    errors: new Map(),
    sentAt: new Float64Array(WEBHOOKS).fill(NaN),
  };
}
const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

/** One subscriber's `next`: find the webhook index in the externalId without a full JSON.parse. */
function onNext(tally: Tally, sub: number, text: string, now: number): void {
  const at = text.indexOf(EXTERNAL_ID_MARK);
  if (at < 0) {
    tally.foreign++;
    return;
  }
  const start = at + EXTERNAL_ID_MARK.length;
  const index = Number.parseInt(text.slice(start, text.indexOf('"', start)), 10);
  if (index === -1) {
    if (tally.probe[sub]) tally.duplicates++;
    else {
      tally.probe[sub] = 1;
      tally.probeCount++;
    }
    return;
  }
  if (!(index >= 0 && index < WEBHOOKS)) {
    tally.foreign++;
    return;
  }
  const slot = sub * WEBHOOKS + index;
  if (!Number.isNaN(tally.latency[slot]!)) {
    tally.duplicates++;
    return;
  }
  tally.latency[slot] = now - tally.sentAt[index]!;
  tally.counts[sub]!++;
  tally.received++;
}

/**
 * Opens one subscriber: resolves once `subscribe` is sent (after connection_ack), rejects when the
 * socket fails first. Afterwards every message goes to the tally.
 */
function openSubscriber(wsUrl: string, sub: number, tally: Tally, sockets: WebSocket[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws', { perMessageDeflate: false });
    sockets[sub] = ws;
    let subscribed = false;
    ws.on('open', () => ws.send('{"type":"connection_init","payload":{}}'));
    ws.on('message', (data: Buffer) => {
      const now = performance.now();
      const text = data.toString('utf8');
      if (subscribed && text.includes('"type":"next"')) return onNext(tally, sub, text, now);
      const msg = JSON.parse(text) as { type: string; payload?: unknown };
      if (msg.type === 'connection_ack' && !subscribed) {
        subscribed = true;
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } }));
        resolve();
      } else if (msg.type === 'ping') {
        ws.send('{"type":"pong"}');
      } else if (msg.type !== 'pong') {
        bump(tally.errors, `${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 200)}`);
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (!subscribed) reject(err);
      else bump(tally.errors, `socket error ${err.code ?? err.message}`);
    });
    ws.on('close', (code) => {
      if (!subscribed) reject(new Error(`closed during handshake (${code})`));
      else if (!closing) bump(tally.errors, `closed by server (${code})`);
    });
  });
}
let closing = false;

/** Opens n subscribers, at most CONCURRENCY handshakes at a time. */
async function openAll(
  wsUrl: string,
  n: number,
  tally: Tally,
  sockets: WebSocket[],
): Promise<{ opened: number; failures: Map<string, number>; ms: number }> {
  const failures = new Map<string, number>();
  let next = 0;
  let opened = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let sub = next++; sub < n; sub = next++) {
      try {
        await openSubscriber(wsUrl, sub, tally, sockets);
        tally.open[sub] = 1;
        opened++;
      } catch (err) {
        const e = err as Error & { code?: string };
        bump(failures, e.code ?? e.message);
      }
      if (opened > 0 && opened % 2_000 === 0) process.stderr.write(`  ${opened} subscribers open\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  return { opened, failures, ms: performance.now() - t0 };
}

// ------------------------------------------------------------------------------ webhooks

const AUTH = `Basic ${Buffer.from(`${SANDBOX_BYNDLE_WEBHOOK.username}:${SANDBOX_BYNDLE_WEBHOOK.password}`).toString('base64')}`;

/** A Byndle delivery with one field event: one PERSON_CHANGED event in the log. */
function byndleDelivery(i: number): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    ajourholdId: 'AJ-SANDBOX-1',
    deliveryId: `${RUN}-delivery-${i}`,
    sentAt: now,
    events: [
      {
        eventId: `${RUN}-event-${i}`,
        eventName: 'telNr.changed',
        occurredAt: now,
        externalId: externalIdOf(i),
        byndleId: null,
        field: 'landline',
        oldValue: null,
        newValue: '+4722000000',
      },
    ],
  });
}

async function postWebhook(
  origin: string,
  i: number,
  tally?: Tally,
): Promise<{ status: number; ms: number }> {
  const body = byndleDelivery(i);
  const t0 = performance.now();
  if (tally && i >= 0) tally.sentAt[i] = t0;
  const res = await fetch(`${origin}/webhooks/byndle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTH },
    body,
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t0 };
}

async function waitFor(
  what: string,
  done: () => boolean,
  progress: () => number,
  stallMs = 30_000,
): Promise<boolean> {
  let last = progress();
  let lastChange = performance.now();
  while (!done()) {
    await sleep(20);
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallMs) {
      process.stderr.write(`  gave up waiting for ${what}: no progress for ${stallMs / 1000} s\n`);
      return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------------------ run

async function main(): Promise<void> {
  const fdLimit = openFileLimit();
  let n = requested;
  let fdNote: string | null = null;
  if (fdLimit !== null && n + FD_MARGIN > fdLimit) {
    n = Math.max(0, fdLimit - FD_MARGIN);
    fdNote = `open-file limit (ulimit -n) is ${fdLimit}: each process needs one descriptor per subscriber plus ~${FD_MARGIN}; running ${n} subscribers instead of ${requested}. Raise it with \`ulimit -n ${requested + 1_000}\` (hard limit permitting).`;
    process.stderr.write(`\n!! ${fdNote}\n\n`);
  }
  process.stderr.write(
    `subscriptions benchmark: ${n} subscribers, ${WEBHOOKS} webhooks at ${RATE === 0 ? 'one burst' : `${RATE}/s`}\n`,
  );

  const gateway = await Gateway.start();
  const sockets: WebSocket[] = [];
  const loadLoop = monitorEventLoopDelay({ resolution: 10 });
  try {
    const { wsUrl, origin, pid } = gateway.ready;
    process.stderr.write(`  gateway pid ${pid} at ${origin}\n`);

    // Warm-up: load and compile the subscription and webhook paths before the baseline.
    {
      const warm = newTally(50);
      const warmSockets: WebSocket[] = [];
      await openAll(wsUrl, 50, warm, warmSockets);
      await sleep(300);
      for (let k = 0; k < 3; k++) await postWebhook(origin, -2 - k);
      await sleep(300);
      closing = true;
      for (const ws of warmSockets) ws.close();
      await sleep(500);
      closing = false;
    }
    const baseline = await gateway.memory();

    // Idle subscribers.
    const tally = newTally(n);
    const open = await openAll(wsUrl, n, tally, sockets);
    process.stderr.write(`  ${open.opened} subscribers open in ${Math.round(open.ms)} ms\n`);
    // Every subscription registered on the server (one event-log tail listener each), then settle.
    const regStart = performance.now();
    for (;;) {
      const { listeners } = await gateway.stats();
      if (listeners === null || listeners >= open.opened) break;
      if (performance.now() - regStart > 60_000) {
        process.stderr.write(`  only ${listeners}/${open.opened} subscriptions registered after 60 s\n`);
        break;
      }
      await sleep(100);
    }
    await sleep(2_000);
    const idle = await gateway.memory();

    // Probe: one event every subscriber must get, proving the subscriptions are live.
    const probeStart = performance.now();
    await postWebhook(origin, -1, tally);
    await waitFor(
      'the probe event',
      () => tally.probeCount >= open.opened,
      () => tally.probeCount,
    );
    const probeMs = performance.now() - probeStart;
    process.stderr.write(
      `  probe reached ${tally.probeCount}/${open.opened} subscribers in ${Math.round(probeMs)} ms\n`,
    );
    await gateway.stats(); // resets the child's loop-delay window

    // Webhooks.
    loadLoop.enable();
    const acks: { status: number; ms: number }[] = [];
    const sends: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < WEBHOOKS; i++) {
      if (RATE > 0) {
        const due = t0 + (i * 1_000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      sends.push(postWebhook(origin, i, tally).then((a) => void acks.push(a)));
    }
    await Promise.all(sends);
    const expected = open.opened * WEBHOOKS;
    const complete = await waitFor(
      'deliveries',
      () => tally.received >= expected,
      () => tally.received,
      15_000,
    );
    const wallMs = performance.now() - t0;
    loadLoop.disable();
    const during = await gateway.stats();
    await sleep(500); // late duplicates would show here
    const after = await gateway.memory();

    // Figures.
    const latencies = tally.latency.filter((x) => !Number.isNaN(x)).sort();
    const lastPerWebhook: number[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      let worst = -Infinity;
      for (let s = 0; s < n; s++) {
        const l = tally.latency[s * WEBHOOKS + i]!;
        if (l > worst) worst = l; // NaN (not received) compares false
      }
      if (Number.isFinite(worst)) lastPerWebhook.push(worst);
    }
    lastPerWebhook.sort((a, b) => a - b);
    let complete_subscribers = 0;
    const short: { subscriber: number; received: number }[] = [];
    for (let s = 0; s < n; s++) {
      if (!tally.open[s]) continue;
      if (tally.counts[s] === WEBHOOKS) complete_subscribers++;
      else if (short.length < 20) short.push({ subscriber: s, received: tally.counts[s]! });
    }
    const ackMs = acks.map((a) => a.ms).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const a of acks) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    const idleDelta = idle.vmRss - baseline.vmRss;
    const perThousand = open.opened > 0 ? (idleDelta / open.opened) * 1_000 : NaN;

    const results = {
      scenario: 'subscriptions: N idle graphql-ws subscribers, W Byndle webhooks',
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        memoryMb: mb(totalmem()),
        node: process.version,
      },
      eventLog: process.env.REDIS_URL ? 'redis' : 'memory',
      options: {
        subscribersRequested: requested,
        subscribers: n,
        webhooks: WEBHOOKS,
        ratePerSecond: RATE,
        concurrency: CONCURRENCY,
      },
      fdLimit,
      fdNote,
      connect: {
        opened: open.opened,
        failed: Object.fromEntries(open.failures),
        ms: Math.round(open.ms),
        perSecond: Math.round((open.opened / open.ms) * 1_000),
      },
      deliveries: {
        expected,
        received: tally.received,
        missing: expected - tally.received,
        duplicates: tally.duplicates,
        foreign: tally.foreign,
        subscribersWithAll: complete_subscribers,
        subscribersShort: open.opened - complete_subscribers,
        firstShort: short,
        protocolErrors: Object.fromEntries(tally.errors),
        complete,
      },
      latencyMs: {
        note: 'from just before the webhook POST to each subscriber receiving its next message (one clock)',
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies[latencies.length - 1] ?? NaN),
        lastSubscriberPerWebhook: {
          p50: round(percentile(lastPerWebhook, 50)),
          p99: round(percentile(lastPerWebhook, 99)),
        },
        probeFanOutMs: round(probeMs),
      },
      webhookAckMs: { p50: round(percentile(ackMs, 50)), p99: round(percentile(ackMs, 99)), statuses },
      wallMs: Math.round(wallMs),
      deliveriesPerSecond: Math.round((tally.received / wallMs) * 1_000),
      memory: {
        note: 'gateway process (nordgraph + idle in-process sandbox) VmRSS after a full GC',
        baselineRssMb: mb(baseline.vmRss),
        idleRssMb: mb(idle.vmRss),
        afterRunRssMb: mb(after.vmRss),
        rssPer1000IdleSubscriptionsKb: round(perThousand / 1024, 1),
        rssPerIdleSubscriptionKb: round(perThousand / 1024 / 1_000, 2),
        heapPer1000IdleSubscriptionsKb:
          open.opened > 0
            ? round((((idle.heapUsed! - baseline.heapUsed!) / open.opened) * 1_000) / 1024, 1)
            : null,
        tailListeners: idle.listeners,
      },
      eventLoopDelayMs: {
        gatewayDuringWebhooks: during.loopDelay,
        loadGenerator: {
          p50: round(loadLoop.percentile(50) / 1e6),
          p99: round(loadLoop.percentile(99) / 1e6),
          max: round(loadLoop.max / 1e6),
        },
      },
    };
    mkdirSync(`${HERE}results`, { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    process.stderr.write(`\nJSON: ${RESULTS}\n`);
    if (results.deliveries.missing > 0 || results.deliveries.duplicates > 0) process.exitCode = 1;
  } finally {
    closing = true;
    for (const ws of sockets) ws?.terminate();
    await gateway.close();
  }
}

function printTable(r: {
  machine: { cpus: number; cpu: string; node: string };
  eventLog: string;
  options: { subscribers: number; webhooks: number; ratePerSecond: number };
  connect: { opened: number; ms: number };
  deliveries: {
    expected: number;
    received: number;
    missing: number;
    duplicates: number;
    subscribersWithAll: number;
  };
  latencyMs: {
    p50: number;
    p90: number;
    p99: number;
    max: number;
    lastSubscriberPerWebhook: { p99: number };
  };
  webhookAckMs: { p50: number; p99: number };
  deliveriesPerSecond: number;
  memory: {
    baselineRssMb: number;
    idleRssMb: number;
    rssPer1000IdleSubscriptionsKb: number;
    rssPerIdleSubscriptionKb: number;
  };
  eventLoopDelayMs: { gatewayDuringWebhooks?: { p99: number; max: number } };
}): void {
  const rows: [string, string][] = [
    ['Subscribers (open / requested)', `${r.connect.opened} / ${r.options.subscribers}`],
    [
      'Webhooks',
      `${r.options.webhooks} at ${r.options.ratePerSecond === 0 ? 'one burst' : `${r.options.ratePerSecond}/s`}`,
    ],
    ['Deliveries received / expected', `${r.deliveries.received} / ${r.deliveries.expected}`],
    ['Subscribers with every event', `${r.deliveries.subscribersWithAll}`],
    ['Missing / duplicate deliveries', `${r.deliveries.missing} / ${r.deliveries.duplicates}`],
    [
      'Webhook → delivery p50 / p90 / p99 / max',
      `${r.latencyMs.p50} / ${r.latencyMs.p90} / ${r.latencyMs.p99} / ${r.latencyMs.max} ms`,
    ],
    ['Webhook → last subscriber p99', `${r.latencyMs.lastSubscriberPerWebhook.p99} ms`],
    ['Webhook ack (POST) p50 / p99', `${r.webhookAckMs.p50} / ${r.webhookAckMs.p99} ms`],
    ['Deliveries per second', `${r.deliveriesPerSecond}`],
    ['Gateway RSS baseline → N idle', `${r.memory.baselineRssMb} → ${r.memory.idleRssMb} MB`],
    [
      'RSS per 1,000 idle subscriptions',
      `${r.memory.rssPer1000IdleSubscriptionsKb} KB (${r.memory.rssPerIdleSubscriptionKb} KB each)`,
    ],
    [
      'Gateway event-loop delay p99 / max',
      r.eventLoopDelayMs.gatewayDuringWebhooks
        ? `${r.eventLoopDelayMs.gatewayDuringWebhooks.p99} / ${r.eventLoopDelayMs.gatewayDuringWebhooks.max} ms`
        : 'n/a',
    ],
    ['Connect time', `${r.connect.ms} ms`],
  ];
  const lines = [
    `### Subscriptions (${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}, ${r.eventLog} event log)`,
    '',
    '| Figure | Value |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`subscriptions benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
