import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkContract, compiledContract } from '../../src/providers/contract.js';
import * as bisnode from '../../src/providers/bisnode/schemas.js';
import * as byndle from '../../src/providers/byndle/schemas.js';
import * as connect from '../../src/providers/connect/schemas.js';
import * as symetrisk from '../../src/providers/symetrisk/schemas.js';
import { accountingListSchema } from '../../src/providers/symetrisk/schemas.js';

const item = (month: number) => ({
  id: month,
  data: {
    symetrisk_real_time_accounts_format_version: '1.0',
    organization_number: '912345678',
    year: 2025,
    month,
    snapshot_date: `2025-${String(month).padStart(2, '0')}-28`,
    currency: 'NOK',
    revenue: 1_250_000,
    operating_result: 120_000.5,
    net_result: 90_000,
    total_assets: 3_000_000,
    equity: 800_000,
    cash: 150_000,
    short_term_debt: 400_000,
    long_term_debt: 1_200_000,
  },
});
const page = () => ({
  metadata: { limit: 12, skip: 0, returnedItems: 2, totalItems: 2 },
  items: [item(1), item(2)],
});

describe('upstream contracts checked by compiled validators', () => {
  it('compiles every provider schema (none falls back to zod today)', () => {
    const schemas = Object.entries({ ...bisnode, ...byndle, ...connect, ...symetrisk }).filter(
      ([, v]) => v instanceof z.ZodType,
    );
    expect(schemas.length).toBeGreaterThan(40);
    const fallBack = schemas.filter(([, s]) => compiledContract(s as z.ZodType) === null).map(([n]) => n);
    expect(fallBack).toEqual([]);
  });

  it('passes a valid body on as it is, unknown properties included', () => {
    const body = { ...page(), links: { next: null } };
    const r = checkContract(accountingListSchema, body);
    expect(r.success).toBe(true);
    expect(r.success && r.data).toBe(body);
    // zod would have stripped `links`; nothing downstream reads it.
    expect(accountingListSchema.parse(body)).not.toHaveProperty('links');
  });

  it.each([
    [
      'a missing field',
      (b: ReturnType<typeof page>) =>
        delete (b.items[1]!.data as Partial<(typeof b.items)[1]['data']>).equity,
      'items.1.data.equity',
    ],
    [
      'a wrong type',
      (b: ReturnType<typeof page>) => ((b.metadata as { limit: unknown }).limit = '12'),
      'metadata.limit',
    ],
    [
      'a broken pattern',
      (b: ReturnType<typeof page>) => (b.items[0]!.data.organization_number = '91234567'),
      'items.0.data.organization_number',
    ],
    [
      'a wrong literal',
      (b: ReturnType<typeof page>) => (b.items[0]!.data.currency = 'SEK'),
      'items.0.data.currency',
    ],
    [
      'a number out of range',
      (b: ReturnType<typeof page>) => (b.items[1]!.data.month = 13),
      'items.1.data.month',
    ],
    ['a fraction for an integer', (b: ReturnType<typeof page>) => (b.items[0]!.id = 1.5), 'items.0.id'],
    ['null for an object', (b: ReturnType<typeof page>) => ((b.items as unknown[])[0] = null), 'items.0'],
  ])('refuses %s and names the field, as zod does', (_name, breakIt, path) => {
    const body = page();
    breakIt(body);
    const r = checkContract(accountingListSchema, body);
    expect(r.success).toBe(false);
    expect(accountingListSchema.safeParse(body).success).toBe(false);
    expect(!r.success && r.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('counts string lengths as zod does (code points, not UTF-16 units)', () => {
    const short = z.object({ s: z.string().max(2) });
    expect(compiledContract(short)).not.toBeNull();
    for (const s of ['ab', '\u{1F600}\u{1F600}', 'abc', '\u{1F600}\u{1F600}\u{1F600}']) {
      expect(checkContract(short, { s }).success).toBe(short.safeParse({ s }).success);
      // The compiled validator alone, too: no disagreement hidden by the fall-back to zod.
      expect(compiledContract(short)!({ s })).toBe(short.safeParse({ s }).success);
    }
    expect(compiledContract(short)!({ s: '\u{1F600}\u{1F600}' })).toBe(true);
    expect(compiledContract(short)!({ s: 'abc' })).toBe(false);
  });

  it('leaves a schema with a refinement to zod, which enforces it', () => {
    const even = z.object({ n: z.number().refine((n) => n % 2 === 0) });
    expect(compiledContract(even)).toBeNull();
    expect(checkContract(even, { n: 2 }).success).toBe(true);
    expect(checkContract(even, { n: 3 }).success).toBe(false);
  });

  it('leaves a transform, a default or coercion to zod, whose output it returns', () => {
    const upper = z.object({ s: z.string().transform((s) => s.toUpperCase()) });
    expect(compiledContract(upper)).toBeNull();
    expect(checkContract(upper, { s: 'ok' })).toEqual({ success: true, data: { s: 'OK' } });
    expect(compiledContract(z.object({ n: z.number().default(1) }))).toBeNull();
    expect(compiledContract(z.object({ n: z.coerce.number() }))).toBeNull();
    expect(compiledContract(z.object({ s: z.string().trim() }))).toBeNull();
    expect(checkContract(z.object({ s: z.string().trim() }), { s: ' a ' })).toEqual({
      success: true,
      data: { s: 'a' },
    });
  });
});
