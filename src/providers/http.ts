import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { ProviderName } from '../config.js';
import { checkContract } from './contract.js';
import { UpstreamError, codeForStatus, parseRetryAfter } from './errors.js';
import {
  ProviderResilience,
  type BreakerState,
  type Deadline,
  type ResilienceOptions,
} from './resilience.js';
import type { TokenCache } from './tokens.js';
import { flatString } from '../flat-strings.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface UpstreamRequest<S extends z.ZodType> {
  method: HttpMethod;
  /** Path below the provider's base URL, already encoded, e.g. `/persons/${encodeURIComponent(gedi)}`. */
  path: string;
  /** A stable label for metrics and logs: the route pattern, never a path with personal data. */
  endpoint: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  /** Contract of a successful body. */
  schema: S;
  /** Statuses that mean "nothing here" and resolve to null instead of throwing (e.g. 404, 204). */
  emptyOn?: number[];
  /** Use this bearer token instead of the client's own (Connect user mode: the end user's token). */
  bearer?: string;
  headers?: Record<string, string>;
  /**
   * A POST (or other non-GET) that only reads, e.g. a search sent as POST: it may be retried like
   * a GET. Leave unset on writes: a write is attempted exactly once, whatever the answer.
   */
  idempotent?: boolean;
}

export interface UpstreamResponseMeta {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface ProviderHttpOptions {
  provider: ProviderName;
  /** API base, possibly with a path, e.g. http://127.0.0.1:1234/consumer-intelligence/v3 */
  baseUrl: string;
  /** Whole-call timeout; kept shorter than the gateway's so a slow provider fails its field, not the request. */
  timeoutMs?: number;
  /** Keep-alive connections per provider. */
  connections?: number;
  tokens?: TokenCache;
  /** Retries, breaker, bulkhead and rate limit (see resilience.ts for defaults and units). */
  resilience?: ResilienceOptions;
  /** Observes each finished call (metrics hook). */
  onCall?: (call: {
    provider: ProviderName;
    endpoint: string;
    method: HttpMethod;
    status: number | null;
    ms: number;
  }) => void;
}

/** The error a passed deadline cancels an exchange with (named like an aborted fetch). */
function deadlinePassed(): Error {
  const err = new Error("the call's deadline passed");
  err.name = 'AbortError';
  return err;
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

/**
 * One exchange's undici handler: gathers the body as Buffer chunks and decodes it once. undici may
 * keep a finished handler referenced a while (its timers are coarse), so the handler lets go of
 * the body, the caller's callback and the deadline as soon as it is done.
 */
class Exchange implements Dispatcher.DispatchHandler {
  status: number | null = null;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] | null = [];

  constructor(
    private deadline: Deadline | null,
    private done: ((err: Error | null, answer: Answer | null) => void) | null,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const deadline = this.deadline;
    if (!deadline) return;
    if (deadline.aborted) controller.abort(deadlinePassed());
    else deadline.onAbort(() => controller.abort(deadlinePassed()));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks?.push(chunk);
  }

  onResponseEnd(): void {
    const chunks = this.chunks ?? [];
    const text =
      chunks.length === 0
        ? ''
        : chunks.length === 1
          ? chunks[0]!.toString('utf8')
          : Buffer.concat(chunks).toString('utf8');
    this.finish(null, { status: this.status!, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish(err, null);
  }

  private finish(err: Error | null, answer: Answer | null): void {
    const done = this.done;
    this.deadline?.onAbort(null);
    this.deadline = null;
    this.done = null;
    this.chunks = null;
    this.headers = {};
    done?.(err, answer);
  }
}

/** Whole-call deadline when the provider's options give none. */
const DEFAULT_TIMEOUT_MS = 3_000;
/** Keep-alive connections per provider. */
const DEFAULT_CONNECTIONS = 32;

/**
 * The one upstream HTTP path: a keep-alive pool per provider, a deadline per call, retries of
 * safe calls honouring Retry-After, a circuit breaker, a bulkhead and an optional rate limit
 * (resilience.ts), bearer tokens with one refresh-and-retry on 401, problem+json and other error
 * bodies mapped to UpstreamError, and every success body checked against its zod contract.
 */
export class ProviderHttp {
  readonly provider: ProviderName;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly resilience: ProviderResilience;

  constructor(private readonly options: ProviderHttpOptions) {
    this.provider = options.provider;
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.resilience = new ProviderResilience(this.provider, this.timeoutMs, options.resilience);
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? DEFAULT_CONNECTIONS,
      keepAliveTimeout: 30_000,
      pipelining: 1,
      // The deadline cancels an exchange once undici starts it (Exchange.onRequestStart); a
      // connection still being made is bounded by this instead of undici's 10 s default.
      connect: { timeout: this.timeoutMs },
    });
  }

  async request<S extends z.ZodType>(req: UpstreamRequest<S>): Promise<z.infer<S> | null> {
    return (await this.requestWithMeta(req)).body;
  }

  async requestWithMeta<S extends z.ZodType>(
    req: UpstreamRequest<S>,
  ): Promise<{ body: z.infer<S> | null; meta: UpstreamResponseMeta }> {
    const safe = req.method === 'GET' || req.idempotent === true;
    const res = await this.resilience.execute(safe, req.endpoint, async (deadline) => {
      const tokens = req.bearer ? undefined : this.options.tokens;
      let token = req.bearer ?? (tokens ? (tokens.cached() ?? (await tokens.get())) : undefined);
      let answer = await this.send(req, token, deadline);
      if (answer.status === 401 && tokens && token) {
        // The provider may have revoked or expired the token early: refresh once, retry once.
        // A 401 proves the request was refused, so even a write may be sent again.
        tokens.invalidate(token);
        token = await tokens.get();
        answer = await this.send(req, token, deadline);
      }
      // Thrown inside the policies so the retry and the breaker see upstream failures.
      if (!req.emptyOn?.includes(answer.status) && (answer.status < 200 || answer.status >= 300)) {
        throw this.failure(req, answer);
      }
      return answer;
    });
    const meta = { status: res.status, headers: res.headers };
    if (req.emptyOn?.includes(res.status)) return { body: null, meta };
    if (res.text.length === 0) {
      const parsed = checkContract(req.schema, undefined);
      if (parsed.success) return { body: parsed.data, meta };
      throw new UpstreamError(
        this.provider,
        'UPSTREAM_BAD_RESPONSE',
        res.status,
        `${this.provider} ${req.endpoint} sent an empty body`,
        req.endpoint,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw new UpstreamError(
        this.provider,
        'UPSTREAM_BAD_RESPONSE',
        res.status,
        `${this.provider} ${req.endpoint} sent malformed JSON`,
        req.endpoint,
      );
    }
    const parsed = checkContract(req.schema, json);
    if (!parsed.success) {
      // Name the fields that broke the contract, never their values.
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))]
        .slice(0, 5)
        .join(', ');
      throw new UpstreamError(
        this.provider,
        'UPSTREAM_BAD_RESPONSE',
        res.status,
        `${this.provider} ${req.endpoint} answered with an unexpected shape at ${fields}`,
        req.endpoint,
      );
    }
    return { body: parsed.data, meta };
  }

  /**
   * One HTTP exchange through undici's dispatcher API: the body is gathered as Buffer chunks and
   * decoded once, without the Readable stream, AbortSignal listener and body mixin that
   * `pool.request()` sets up per call (measurable at 301 calls per S3 query). The deadline
   * cancels the exchange through the controller undici hands over.
   */
  private send(
    req: UpstreamRequest<z.ZodType>,
    token: string | undefined,
    deadline: Deadline,
  ): Promise<Answer> {
    const started = performance.now();
    let path = this.basePath + req.path;
    if (req.query) {
      let qs = '';
      for (const k in req.query) {
        const v = req.query[k];
        if (v !== undefined && v !== null)
          qs += `${qs ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
      }
      path += qs;
    }
    const headers: Record<string, string> = req.headers
      ? { accept: 'application/json', ...req.headers }
      : { accept: 'application/json' };
    // The client's own token is memoised with its header; an end user's (req.bearer) is not kept.
    if (token) headers.authorization = req.bearer ? `Bearer ${token}` : this.bearerHeader(token);
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(deadline, (err, answer) => {
        try {
          this.options.onCall?.({
            provider: this.provider,
            endpoint: req.endpoint,
            method: req.method,
            status: answer?.status ?? exchange.status,
            ms: performance.now() - started,
          });
        } catch {
          // An observer's failure must not leave the call unsettled (and its bulkhead slot taken).
        }
        if (answer) resolve(answer);
        else reject(this.transportFailure(req, err));
      });
      this.pool.dispatch({ method: req.method, path, headers, body }, exchange);
    });
  }

  /** `Bearer <token>` for the client's own token, built once per token: one serves thousands of calls. */
  private lastBearer: { token: string; header: string } | null = null;
  private bearerHeader(token: string): string {
    const last = this.lastBearer;
    if (last?.token === token) return last.header;
    // Flattened now, once, rather than by undici's header check on every call.
    const header = flatString(`Bearer ${token}`);
    this.lastBearer = { token, header };
    return header;
  }

  private transportFailure(req: UpstreamRequest<z.ZodType>, err: unknown): UpstreamError {
    const e = err as Error;
    const timedOut =
      e.name === 'TimeoutError' ||
      e.name === 'AbortError' ||
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError;
    return timedOut
      ? new UpstreamError(
          this.provider,
          'UPSTREAM_TIMEOUT',
          null,
          `${this.provider} ${req.endpoint} did not answer within ${this.timeoutMs} ms`,
          req.endpoint,
        )
      : new UpstreamError(
          this.provider,
          'UPSTREAM_UNAVAILABLE',
          null,
          `${this.provider} ${req.endpoint} unreachable (${e.name}${'code' in e ? ` ${String((e as { code: unknown }).code)}` : ''})`,
          req.endpoint,
        );
  }

  private failure(req: UpstreamRequest<z.ZodType>, res: Answer): UpstreamError {
    let detail: unknown;
    let title = '';
    try {
      detail = JSON.parse(res.text);
      // RFC 7807 problem (Bisnode) or the other providers' shapes: take a short title if present.
      const d = detail as Record<string, unknown>;
      const t = d.title ?? d.error ?? d.exceptionType;
      if (typeof t === 'string') title = `: ${t.slice(0, 80)}`;
    } catch {
      detail = undefined;
    }
    return new UpstreamError(
      this.provider,
      codeForStatus(res.status),
      res.status,
      `${this.provider} ${req.endpoint} answered ${res.status}${title}`,
      req.endpoint,
      parseRetryAfter(res.headers['retry-after']),
      detail,
    );
  }

  /**
   * For /readyz: resolves once the client holds a usable token (the cached one, or a fresh one
   * fetched now, single flight with calls); rejects when none can be obtained. False when this
   * client uses no token.
   */
  async ensureToken(): Promise<boolean> {
    if (!this.options.tokens) return false;
    await this.options.tokens.get();
    return true;
  }

  /** The provider's circuit breaker: 'open' while calls fail fast. */
  state(): BreakerState {
    return this.resilience.state();
  }

  /** Calls in flight and waiting in the provider's bulkhead. */
  load(): { active: number; queued: number } {
    return this.resilience.load();
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
