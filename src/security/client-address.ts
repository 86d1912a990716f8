import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * The client's address, for rate limit keys of unauthenticated requests and for access logs.
 *
 * `trustedHops` is the number of proxies in front of nordgraph (TRUST_PROXY). X-Forwarded-For
 * is a list each proxy appends its peer to, so only its last `trustedHops` entries were written
 * by proxies we trust; anything further left came from the client and may be made up. With 0
 * hops the header is ignored: a caller could otherwise pick a fresh address per request and
 * escape its rate limit. (Same rule as Express's numeric `trust proxy`.)
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops <= 0) return peer;
  const raw = req.headers['x-forwarded-for'];
  const header = Array.isArray(raw) ? raw.join(',') : raw;
  if (!header) return peer;
  const forwarded = header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Walk from our peer towards the client, one trusted proxy at a time.
  let address = peer;
  for (let hop = 0; hop < trustedHops && forwarded.length > 0; hop++) {
    const next = forwarded.pop()!;
    // A trusted proxy writes addresses; anything else means the chain cannot be read further.
    if (!isIP(next)) break;
    address = next;
  }
  return address;
}
