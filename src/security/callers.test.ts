import { describe, expect, it } from 'vitest';
import { callerKey, type Caller } from './callers.js';

const caller = (scopes: string[], purposes: string[], id = 'app'): Caller => ({
  id,
  kind: 'api-key',
  scopes: new Set(scopes),
  purposes: new Set(purposes),
});

describe('callerKey', () => {
  it('names kind, id, sorted scopes, purpose and whether the purpose is allowed', () => {
    const c = caller(['person:read', 'business:read'], ['kyc']);
    expect(callerKey(c, 'kyc')).toBe('api-key:app|business:read,person:read|kyc|1');
    expect(callerKey(c, 'marketing')).toBe('api-key:app|business:read,person:read|marketing|0');
    expect(callerKey(c, null)).toBe('api-key:app|business:read,person:read||0');
  });

  it('never gives two callers of one name with other rights the same key', () => {
    const a = caller(['person:read'], ['kyc'], 'jwt:sub-1');
    const b = caller(['person:read'], ['fraud'], 'jwt:sub-1');
    const c = caller(['person:read', 'credit:read'], ['kyc'], 'jwt:sub-1');
    expect(callerKey(a, 'kyc')).not.toBe(callerKey(b, 'kyc'));
    expect(callerKey(a, 'kyc')).not.toBe(callerKey(c, 'kyc'));
  });
});
