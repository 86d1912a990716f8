/**
 * Test data and upstream call counts for the Byndle query tests, read from the sandbox's control
 * API (not from any provider contract), plus direct Byndle calls to set up ajourhold state.
 */
import type { Nordgraph } from '../../src/app.js';

export interface SandboxAddress {
  street: string;
  houseNumber: string;
  postalCode: string;
  city: string;
}
export interface SandboxPerson {
  id: string;
  market: 'NO' | 'SE' | 'DK' | 'FI';
  nationalId: string;
  nationalIdKind: string;
  byndleId: string | null;
  firstName: string;
  lastName: string;
  birthDate: string;
  status: number;
  addresses: SandboxAddress[];
  phones: { number: string; type: 'mobile' | 'landline' }[];
  reservations: { directMail: boolean; phoneSale: boolean; humanitarian: boolean };
  householdId: string;
  properties: string[];
}
export type SandboxParty = { kind: 'person'; personId: string } | { kind: 'business'; orgNr: string };
export interface SandboxBusiness {
  orgNr: string;
  name: string;
  roles: { role: string; holder: SandboxParty; since: string }[];
}
export interface SandboxVehicle {
  regNr: string;
  vin: string;
  owner: SandboxParty;
}

export class ByndleSandbox {
  constructor(private readonly app: Nordgraph) {}

  get control(): string {
    return this.app.sandbox!.controlUrl;
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(this.control + path);
    if (!res.ok) throw new Error(`control ${path} answered ${res.status}`);
    return (await res.json()) as T;
  }

  async persons(limit = 500, offset = 0): Promise<SandboxPerson[]> {
    return (
      await this.get<{ persons: SandboxPerson[] }>(`/persons?market=NO&limit=${limit}&offset=${offset}`)
    ).persons;
  }

  async person(ref: string): Promise<SandboxPerson | null> {
    const res = await fetch(`${this.control}/persons/${encodeURIComponent(ref)}`);
    return res.ok ? ((await res.json()) as SandboxPerson) : null;
  }

  async businesses(minRoles = 0, limit = 500): Promise<SandboxBusiness[]> {
    return (
      await this.get<{ businesses: SandboxBusiness[] }>(`/businesses?minRoles=${minRoles}&limit=${limit}`)
    ).businesses;
  }

  /** Every vehicle (the control API lists 500 at a time). */
  async vehicles(): Promise<SandboxVehicle[]> {
    const all: SandboxVehicle[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = (await this.get<{ vehicles: SandboxVehicle[] }>(`/vehicles?limit=500&offset=${offset}`))
        .vehicles;
      all.push(...page);
      if (page.length < 500) return all;
    }
  }

  /** Byndle's call counts by route, e.g. `GET /v1/lookup/person/extended`. */
  async counts(): Promise<Record<string, number>> {
    return (await this.get<{ byndle: Record<string, number> }>('/counters')).byndle;
  }

  async resetCounts(): Promise<void> {
    await fetch(`${this.control}/counters/reset`, { method: 'POST' });
  }

  async fault(config: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.control}/faults/byndle`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    if (!res.ok) throw new Error(`fault answered ${res.status}`);
  }

  async clearFaults(): Promise<void> {
    await fetch(`${this.control}/faults`, { method: 'DELETE' });
  }

  /** Calls Byndle itself (not through nordgraph), for ajourhold set-up. */
  async byndle(method: string, path: string, body?: unknown): Promise<Response> {
    const p = this.app.providers.byndle;
    const tokenRes = await fetch(p.tokenUrl, { headers: { auth: `${p.clientId}:${p.clientSecret}` } });
    const { token } = (await tokenRes.json()) as { token: string };
    return fetch(`${p.baseUrl}${path.replace('{ajourholdId}', encodeURIComponent(p.ajourholdId))}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}

/** A valid Norwegian fødselsnummer (legacy check digits) for a date and individual number, or null. */
export function makeFnr(ddmmyy: string, individual: number): string | null {
  const base = `${ddmmyy}${String(individual).padStart(3, '0')}`;
  const d = Array.from(base, Number);
  const w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const k1 = (11 - (w1.reduce((s, w, i) => s + w * d[i]!, 0) % 11)) % 11;
  if (k1 === 10) return null;
  const w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  const d2 = [...d, k1];
  const k2 = (11 - (w2.reduce((s, w, i) => s + w * d2[i]!, 0) % 11)) % 11;
  if (k2 === 10) return null;
  return `${base}${k1}${k2}`;
}

/** A valid organisation number (mod-11) from an 8-digit prefix, or null when none exists. */
export function makeOrgNr(prefix: string): string | null {
  const w = [3, 2, 7, 6, 5, 4, 3, 2];
  const check = (11 - (w.reduce((s, x, i) => s + x * Number(prefix[i]), 0) % 11)) % 11;
  return check === 10 ? null : `${prefix}${check}`;
}

export const mobileOf = (p: SandboxPerson) => p.phones.find((ph) => ph.type === 'mobile')?.number ?? null;
