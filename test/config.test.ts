import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('defaults to the sandbox on port 4000', () => {
    const c = loadConfig({});
    expect(c.PROVIDERS_MODE).toBe('sandbox');
    expect(c.PORT).toBe(4000);
    expect(c.providers).toBeNull();
  });

  it('lists every problem at once and never echoes a value', () => {
    const secret = 'hunter2-very-secret';
    try {
      loadConfig({
        PORT: 'abc',
        LOG_LEVEL: 'loud',
        PROVIDERS_MODE: 'live',
        BISNODE_CLIENT_SECRET: secret,
        BYNDLE_BASE_URL: 'ftp://x',
      });
      expect.unreachable('loadConfig accepted a bad environment');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      const names = e.problems.map((p) => p.split(':')[0]);
      expect(names).toEqual(
        expect.arrayContaining([
          'PORT',
          'LOG_LEVEL',
          'BYNDLE_BASE_URL',
          'BYNDLE_TOKEN_URL',
          'SYMETRISK_CLIENT_SECRET',
        ]),
      );
      expect(names).not.toContain('BISNODE_CLIENT_SECRET');
      expect(e.message).not.toContain(secret);
      expect(e.message).not.toContain('ftp://x');
    }
  });

  it('builds the provider endpoints from the environment in live mode', () => {
    const env: Record<string, string> = { PROVIDERS_MODE: 'live' };
    for (const p of ['BYNDLE', 'BISNODE', 'CONNECT', 'SYMETRISK']) {
      env[`${p}_BASE_URL`] = `https://${p.toLowerCase()}.example/api`;
      env[`${p}_TOKEN_URL`] = `https://${p.toLowerCase()}.example/token`;
      env[`${p}_CLIENT_ID`] = 'id';
      env[`${p}_CLIENT_SECRET`] = 'secret';
    }
    Object.assign(env, { BYNDLE_USERNAME: 'u', BYNDLE_PASSWORD: 'p', BYNDLE_AJOURHOLD_ID: 'AJ-1' });
    const c = loadConfig(env);
    expect(c.providers?.bisnode.baseUrl).toBe('https://bisnode.example/api');
    expect(c.providers?.byndle).toMatchObject({ clientId: 'u', clientSecret: 'p', ajourholdId: 'AJ-1' });
  });
});
