import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import RealNegotiator from 'negotiator';
import { apolloStandInsPlugin } from '../../scripts/esbuild-options.js';
import { bundleApolloServer } from '../../test/helpers/apollo-bundle.js';
import { createHash } from './apollo-createhash.js';
import MemoNegotiator from './negotiator-memo.js';

const require = createRequire(import.meta.url);
type Hasher = (kind: string) => { update(s: string): { digest(enc: 'hex'): string } };
/** Apollo's own createHash (run unbundled here, where it picks Node's crypto) and sha.js, its fallback. */
const apollos = (require('@apollo/utils.createhash') as { createHash: Hasher }).createHash;
const shaJs = require('sha.js') as Hasher;

// What Apollo Server 5 offers (runHttpQuery, ApolloServer.prefersHTML, requestPipeline).
const OFFERS = [
  ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8'],
  ['multipart/mixed; deferSpec=20220824', 'multipart/mixed; incrementalSpec=v0.2'],
  ['text/html', 'application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8'],
  undefined,
];
const ACCEPTS = [
  undefined,
  '',
  '*/*',
  'application/json',
  'application/graphql-response+json, application/json;q=0.9',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'multipart/mixed;incrementalSpec=v0.2, application/json;q=0.5',
  'application/xml',
  'application/json;q=0',
];

describe('Apollo stand-ins of the gateway bundles (scripts/esbuild-options.ts)', () => {
  it('createhash: the digests of Apollo’s own createHash and of sha.js, its bundled fallback', () => {
    for (const text of [
      '',
      '{ __typename }',
      'query ($id: String!) { person(nationalId: $id) { id } }',
      'ø'.repeat(999),
    ]) {
      const ours = createHash('sha256').update(text).digest('hex');
      expect(ours).toBe(apollos('sha256').update(text).digest('hex'));
      expect(ours).toBe(shaJs('sha256').update(text).digest('hex'));
    }
  });

  it('negotiator: the real negotiator’s answers for every Accept header and offer, asked twice', () => {
    for (const accept of ACCEPTS) {
      for (const offer of OFFERS) {
        const real = new RealNegotiator({ headers: { accept } });
        for (let round = 0; round < 2; round++) {
          const memo = new MemoNegotiator({ headers: { accept } });
          expect(memo.mediaType(offer), `${accept} / ${offer}`).toBe(real.mediaType(offer));
          expect(memo.mediaTypes(offer)).toEqual(real.mediaTypes(offer));
        }
      }
    }
    const memo = new MemoNegotiator({ headers: { 'accept-language': 'nb, en;q=0.5' } });
    expect(memo.language(['en', 'nb'])).toBe('nb');
  });

  it('negotiator: a remembered list cannot be changed through a returned copy', () => {
    const accept = 'application/json, text/html;q=0.5';
    const first = new MemoNegotiator({ headers: { accept } }).mediaTypes(['text/html', 'application/json']);
    first.length = 0;
    expect(new MemoNegotiator({ headers: { accept } }).mediaTypes(['text/html', 'application/json'])).toEqual(
      ['application/json', 'text/html'],
    );
  });

  it('negotiator: many distinct Accept headers keep answering correctly past the memo’s bound', () => {
    for (let i = 0; i < 600; i++) {
      const accept = `application/json;q=0.${(i % 9) + 1}, text/x-${i}`;
      const offer = ['text/html', 'application/json', `text/x-${i}`];
      expect(new MemoNegotiator({ headers: { accept } }).mediaType(offer)).toBe(
        new RealNegotiator({ headers: { accept } }).mediaType(offer),
      );
    }
  });

  it('takes the place of Apollo’s imports in a bundle made with the plugin, and only there', async () => {
    const patched = await bundleApolloServer([apolloStandInsPlugin]);
    const plain = await bundleApolloServer([]);
    expect(plain).toContain('node_modules/sha.js/');
    expect(patched).not.toContain('node_modules/sha.js/');
    expect(patched).toContain('src/execution/apollo-createhash.ts');
    expect(patched).toContain('src/execution/negotiator-memo.ts');
    expect(plain).not.toContain('negotiator-memo.ts');
    // The real negotiator is still bundled: the stand-in delegates to it.
    expect(patched).toContain('node_modules/negotiator/index.js');
  });
});
