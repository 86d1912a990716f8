/**
 * One row of `npm run bench` output (test/bench/run.ts collects rows from every scenario module
 * into bench-results/latest.{md,json}).
 */
export interface ScenarioRow {
  /** S1..S6 */
  scenario: string;
  /** What ran: 'nordgraph', 'aggregator (hand-written)', 'hive-gateway', 'bare ws', ... */
  system: string;
  /** Upstream latency added by the sandbox per call, ms. */
  upstreamLatencyMs: number;
  /** 'closed' (autocannon, throughput) or 'open' (fixed arrival rate) or 'n/a'. */
  load: 'closed' | 'open' | 'n/a';
  throughputRps?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Upstream calls per query (sandbox counters) and the structural minimum. */
  upstreamCallsPerQuery?: number;
  structuralMinimum?: number;
  rssMb?: number;
  /** Free-form figures a scenario adds (delivered counts, KB per idle sub, cold start ms, ...). */
  extra?: Record<string, number | string>;
  notes?: string;
}

/** Every scenario module exports `run(options)` returning its rows. */
export interface ScenarioOptions {
  /** Short runs for a smoke check (`npm run bench -- --quick`). */
  quick: boolean;
  log: (line: string) => void;
}
