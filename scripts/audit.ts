import { ConfigError, loadConfig } from '../src/config.js';
import { createAuditSink } from '../src/security/audit.js';
import { validateNationalId, type Market } from '../src/security/identifiers.js';

/**
 * `npm run audit -- <nationalId> [market]`: everything the audit trail holds about one data
 * subject (for an access request), oldest first, one JSON object per line on stdout: the same
 * records as the `auditTrail` admin query. Reads the trail the gateway is configured with
 * (AUDIT_LOG_FILE, or the Redis stream with REDIS_URL and AUDIT_KEY_PREFIX; CACHE_KEY_SALT must
 * be the gateway's, since the subject reference is keyed with it).
 */
const MARKETS: readonly Market[] = ['NO', 'SE', 'DK', 'FI'];
const USAGE = 'usage: npm run audit -- <nationalId> [NO|SE|DK|FI]';

async function main(): Promise<number> {
  const [nationalId, marketArg = 'NO'] = process.argv.slice(2);
  const market = marketArg.toUpperCase() as Market;
  if (!nationalId || !MARKETS.includes(market)) {
    console.error(USAGE);
    return 2;
  }
  const id = validateNationalId(market, nationalId);
  if (!id.ok) {
    // Say what was expected, never echo the value.
    console.error(`the national id is invalid: expected ${id.expected}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const sink = createAuditSink({
    file: config.AUDIT_LOG_FILE,
    redisUrl: config.REDIS_URL,
    prefix: config.AUDIT_KEY_PREFIX,
    salt: config.CACHE_KEY_SALT,
  });
  try {
    const subject = sink.ref(id.value);
    let after: string | null = null;
    for (;;) {
      const page = await sink.listBySubject(subject, { after, first: 500 });
      for (const { record } of page.items) process.stdout.write(`${JSON.stringify(record)}\n`);
      if (!page.hasNextPage || page.items.length === 0) break;
      after = page.items.at(-1)!.id;
    }
  } finally {
    await sink.close();
  }
  return 0;
}

process.exitCode = await main();
