import type { ProviderHttp } from '../providers/http.js';
import { UpstreamError } from '../providers/errors.js';

/** How long a readiness probe waits for a provider token before calling it not ready. */
const TOKEN_TIMEOUT_MS = 2_000;

export type Check = { ok: boolean; detail?: string };

/**
 * `/readyz` checks that each provider's upstream token is obtainable: the cached token when it is
 * still valid (no upstream call), else one fetched now. A provider whose token endpoint refuses
 * our credentials or is down makes the instance not ready. The detail names the error code and
 * status only (never a token or a credential).
 */
export async function tokenChecks(clients: readonly ProviderHttp[]): Promise<Record<string, Check>> {
  const entries = await Promise.all(
    clients.map(async (http): Promise<[string, Check]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no token within ${TOKEN_TIMEOUT_MS} ms`)),
          TOKEN_TIMEOUT_MS,
        );
      });
      try {
        const uses = await Promise.race([http.ensureToken(), timeout]);
        return [`token.${http.provider}`, uses ? { ok: true } : { ok: true, detail: 'no token used' }];
      } catch (err) {
        const detail =
          err instanceof UpstreamError
            ? `${err.code}${err.status === null ? '' : ` (status ${err.status})`}`
            : err instanceof Error && err.message.startsWith('no token within')
              ? err.message
              : 'token unavailable';
        return [`token.${http.provider}`, { ok: false, detail }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
