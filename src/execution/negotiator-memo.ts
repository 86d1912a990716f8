import RealNegotiator, { type NegotiatorRequest } from 'negotiator';

/**
 * Stand-in for the `negotiator` package as Apollo Server imports it, in the gateway's bundles
 * (scripts/esbuild-options.ts). Apollo builds a Negotiator and parses the Accept header twice per
 * operation (the response's content type, and whether legacy incremental delivery is wanted),
 * always against the same few media types. The answer depends only on the Accept header and the
 * list offered, so it is remembered for the last MEMO_LIMIT distinct pairs (clients send a handful
 * of Accept headers; the bound keeps a caller who varies it from growing the memory). Methods other
 * than mediaType/mediaTypes go to the real negotiator unchanged.
 */
const MEMO_LIMIT = 256;
/** Longer Accept headers are negotiated without the memo (nothing that long is worth keeping). */
const MAX_MEMO_ACCEPT = 512;

const single = new Map<string, string | undefined>();
const multiple = new Map<string, string[]>();

function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

export default class Negotiator {
  private real: RealNegotiator | null = null;
  constructor(private readonly request: NegotiatorRequest) {}

  private get delegate(): RealNegotiator {
    return (this.real ??= new RealNegotiator(this.request));
  }

  /** The memo key, or null when this request's Accept header is not memoised. */
  private key(available: readonly string[] | undefined): string | null {
    const accept = this.request.headers.accept;
    const offered = available ? available.join('\u0000') : '\u0001';
    // undefined (no header: every type acceptable) and '' (nothing acceptable) differ.
    if (accept === undefined) return `\u0001\u0000${offered}`;
    if (typeof accept !== 'string' || accept.length > MAX_MEMO_ACCEPT) return null;
    return `${accept}\u0000${offered}`;
  }

  mediaType(available?: string[]): string | undefined {
    const key = this.key(available);
    if (key === null) return this.delegate.mediaType(available);
    return single.has(key) ? single.get(key) : remember(single, key, this.delegate.mediaType(available));
  }

  mediaTypes(available?: string[]): string[] {
    const key = this.key(available);
    if (key === null) return this.delegate.mediaTypes(available);
    const hit = multiple.get(key);
    return hit ? [...hit] : [...remember(multiple, key, this.delegate.mediaTypes(available))];
  }

  charset(available?: string[]): string | undefined {
    return this.delegate.charset(available);
  }
  charsets(available?: string[]): string[] {
    return this.delegate.charsets(available);
  }
  encoding(available?: string[], options?: { preferred?: string[] }): string | undefined {
    return this.delegate.encoding(available, options);
  }
  encodings(available?: string[], options?: { preferred?: string[] }): string[] {
    return this.delegate.encodings(available, options);
  }
  language(available?: string[]): string | undefined {
    return this.delegate.language(available);
  }
  languages(available?: string[]): string[] {
    return this.delegate.languages(available);
  }
}
