/**
 * Baseline (a) of `npm run bench`: a hand-written minimal REST aggregator, the practical limit for
 * nordgraph's throughput. Plain node:http and undici; for each scenario it makes exactly the
 * upstream calls nordgraph makes (no cache, duplicates removed within a request) and returns the
 * JSON nordgraph answers for the scenario's GraphQL query (test/bench/http.ts compares the two
 * byte for byte before measuring). Nothing else: no schema, no validation of upstream bodies, no
 * retries, breaker or metrics; upstream tokens are real (fetched, cached until 60 s before expiry,
 * one fetch in flight, refreshed once on a 401).
 *
 * Run as a child process of test/bench/http.ts:
 *   env BENCH_REMOTE_SANDBOX = JSON of sandbox-child.ts's RemoteSandbox, BENCH_API_KEY = the key
 *   callers must send in `x-api-key`
 *   child → parent { type: 'ready', url, pid }; parent → child { type: 'stats', id } →
 *   { type: 'stats', id, rss }; { type: 'close' }
 * Routes: GET /s1?nationalId=…  GET /s2?orgNr=…  GET /s3 (first 100 borrower relationships).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { RemoteSandbox } from '../sandbox-child.js';

const sandbox = JSON.parse(process.env.BENCH_REMOTE_SANDBOX ?? 'null') as RemoteSandbox | null;
if (!sandbox) throw new Error('BENCH_REMOTE_SANDBOX is not set');
const apiKey = process.env.BENCH_API_KEY ?? '';
const creds = sandbox.credentials;

/** Upstream JSON is read as-is: the aggregator trusts its providers (nordgraph validates). */
type Json = Record<string, unknown>;
type J = Json;

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

interface Token {
  value: string;
  expiresAt: number;
}

/** One provider: a keep-alive pool (32 connections, as nordgraph) and its bearer token. */
class Upstream {
  private readonly pool: Pool;
  private readonly base: string;
  private token: Token | null = null;
  private inflight: Promise<Token> | null = null;

  constructor(
    apiUrl: string,
    private readonly fetchToken: () => Promise<Token>,
  ) {
    const u = new URL(apiUrl);
    this.pool = new Pool(u.origin, { connections: 32, pipelining: 1 });
    this.base = u.pathname.replace(/\/$/, '');
  }

  private async bearer(): Promise<string> {
    if (this.token && this.token.expiresAt - 60_000 > Date.now()) return this.token.value;
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = null));
    this.token = await this.inflight;
    return this.token.value;
  }

  /** JSON of a call; null on 404. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, retried = false): Promise<J | null> {
    const used = await this.bearer();
    const res = await this.pool.request({
      method,
      path: this.base + path,
      headers: {
        authorization: `Bearer ${used}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.statusCode === 401 && !retried) {
      await res.body.dump();
      if (this.token?.value === used) this.token = null;
      return this.call(method, path, body, true);
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return null;
    }
    if (res.statusCode >= 300) {
      await res.body.dump();
      throw new HttpError(res.statusCode);
    }
    return (await res.body.json()) as J;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  if (!res.ok) throw new HttpError(res.status);
  const t = (await res.json()) as { access_token: string; expires_in: number };
  return { value: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
}

const byndle = new Upstream(sandbox.apiUrls.byndle!, async () => {
  const res = await fetch(sandbox.tokenUrls.byndle!, {
    headers: { auth: `${creds.byndle.username}:${creds.byndle.password}` },
  });
  if (!res.ok) throw new HttpError(res.status);
  const t = (await res.json()) as { token: string; expires: string };
  return { value: t.token, expiresAt: Date.parse(t.expires) };
});
const connect = new Upstream(sandbox.apiUrls.connect!, () =>
  postForm(sandbox.tokenUrls.connect!, {
    grant_type: 'client_credentials',
    client_id: creds.connect.clientId,
    client_secret: creds.connect.clientSecret,
  }),
);
const symetrisk = new Upstream(sandbox.apiUrls.symetrisk!, () =>
  postForm(
    sandbox.tokenUrls.symetrisk!,
    { grant_type: 'client_credentials' },
    {
      authorization: `Basic ${Buffer.from(`${creds.symetrisk.clientId}:${creds.symetrisk.clientSecret}`).toString('base64')}`,
    },
  ),
);

// ---- mapping: the same values nordgraph's resolvers give for the benchmark's queries ----------

const ROLE_TYPES: Record<string, string> = {
  'Bestyrende reder': 'MANAGING_SHIPOWNER',
  Bobestyrer: 'ESTATE_ADMINISTRATOR',
  'Daglig leder/administrerende direktør': 'CHIEF_EXECUTIVE',
  'Deltaker med proratisk ansvar (delt ansvar)': 'PARTNER_PRO_RATA_LIABILITY',
  'Deltaker med solidarisk ansvar (fullt ansvarlig)': 'PARTNER_JOINT_LIABILITY',
  Forretningsfører: 'BUSINESS_MANAGER',
  Innehaver: 'PROPRIETOR',
  Komplementar: 'GENERAL_PARTNER',
  Kontaktperson: 'CONTACT_PERSON',
  Nestleder: 'DEPUTY_CHAIR',
  'Norsk representant for utenlandsk enhet': 'NORWEGIAN_REPRESENTATIVE',
  Observatør: 'OBSERVER',
  Regnskapsfører: 'ACCOUNTANT',
  Revisor: 'AUDITOR',
  Styremedlem: 'BOARD_MEMBER',
  'Styrets leder': 'BOARD_CHAIR',
  Varamedlem: 'DEPUTY_BOARD_MEMBER',
};

interface Address {
  fullAddress: string;
  validFrom: string | null;
  validTo: string | null;
}
interface ExtendedPerson {
  person: {
    byndleId: string;
    firstName: string;
    lastName: string;
    birthDate: string | null;
    address: Address | null;
    mobile: string | null;
    email: string | null;
    reservations: { reservedDm: boolean; reservedPhoneSale: boolean; reservedHumOrg: boolean } | null;
  };
  addressHistory: Address[];
  phones: { number: string; type: string }[];
}

/** S1: person extended → credential check (mobiles + email) → customer info per distinct number. */
async function personCard(nationalId: string): Promise<Json> {
  const ext = (await byndle.call(
    'GET',
    `/v1/lookup/person/extended?nationalId=${encodeURIComponent(nationalId)}`,
  )) as unknown as ExtendedPerson | null;
  if (!ext) return { person: null };
  const p = ext.person;
  const credentials = [
    ...ext.phones.filter((ph) => ph.type === 'mobile').map((ph) => ph.number),
    ...(p.email ? [p.email] : []),
  ];
  let customers: Json[] = [];
  if (credentials.length > 0) {
    const check = (await connect.call('POST', '/v1/client/credential/customers/check', { credentials })) as {
      customers: { customerNumber: number }[];
    } | null;
    const numbers = [...new Set((check?.customers ?? []).map((c) => c.customerNumber))];
    const infos = await Promise.all(numbers.map((n) => connect.call('GET', `/v1/client/customer/info/${n}`)));
    customers = infos.flatMap((raw) => {
      if (!raw) return [];
      const info = raw as unknown as {
        customerNumber: number;
        name: { firstName: string | null; lastName: string | null };
        emails: string[];
      };
      return [
        {
          id: `connect:${info.customerNumber}`,
          customerNumber: info.customerNumber,
          firstName: info.name.firstName,
          lastName: info.name.lastName,
          emails: info.emails,
        },
      ];
    });
  }
  const r = p.reservations;
  return {
    person: {
      id: `byndle:${p.byndleId}`,
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      address: p.address ? { formatted: p.address.fullAddress } : null,
      addressHistory: ext.addressHistory.map((a) => ({
        formatted: a.fullAddress,
        validFrom: a.validFrom,
        validTo: a.validTo,
      })),
      phones: ext.phones.map((ph) => ({ number: ph.number, type: ph.type.toUpperCase() })),
      marketingRestrictions: r
        ? { directMail: r.reservedDm, phoneSales: r.reservedPhoneSale, humanitarian: r.reservedHumOrg }
        : null,
      customers,
    },
  };
}

interface ByndleBusiness {
  orgNr: string;
  name: string;
  employees: number | null;
  roles: {
    role: string;
    since: string | null;
    holder: { type: 'person'; byndleId: string } | { type: 'business'; orgNr: string; name: string };
  }[];
}

/** S2: the business → person extended once per distinct person holder, in parallel. */
async function businessWithRoles(orgNr: string): Promise<Json> {
  const b = (await byndle.call(
    'GET',
    `/v1/lookup/business/${encodeURIComponent(orgNr)}`,
  )) as unknown as ByndleBusiness | null;
  if (!b) return { business: null };
  const ids = [...new Set(b.roles.flatMap((r) => (r.holder.type === 'person' ? [r.holder.byndleId] : [])))];
  const persons = new Map<string, ExtendedPerson | null>();
  await Promise.all(
    ids.map(async (id) => {
      const ext = await byndle.call('GET', `/v1/lookup/person/extended?byndleId=${encodeURIComponent(id)}`);
      persons.set(id, ext as unknown as ExtendedPerson | null);
    }),
  );
  return {
    business: {
      organizationNumber: b.orgNr,
      name: b.name,
      roles: b.roles.map((r) => {
        let holder: Json | null;
        if (r.holder.type === 'business') {
          holder = { __typename: 'Business', organizationNumber: r.holder.orgNr, name: r.holder.name };
        } else {
          const ext = persons.get(r.holder.byndleId);
          holder = ext
            ? {
                __typename: 'Person',
                id: `byndle:${ext.person.byndleId}`,
                firstName: ext.person.firstName,
                lastName: ext.person.lastName,
                birthDate: ext.person.birthDate,
                address: ext.person.address ? { formatted: ext.person.address.fullAddress } : null,
              }
            : null;
        }
        return { role: ROLE_TYPES[r.role] ?? null, since: r.since, holder };
      }),
    },
  };
}

/** Our own company at Symetrisk (the creditor of every score): asked once per process, like nordgraph. */
let ownOrgNr: Promise<string> | null = null;
const own = () =>
  (ownOrgNr ??= symetrisk.call('GET', '/self').then((s) => {
    const o = (s as { company?: { brreg_organization_number?: string } } | null)?.company
      ?.brreg_organization_number;
    if (!o) throw new Error('GET /self gave no organisation number');
    return o;
  }));

/** S3: relationships → per borrower, in parallel: business, credit score, 12 newest snapshots. */
async function borrowers(): Promise<Json> {
  const rel = (await symetrisk.call('GET', '/relationships?limit=100&skip=0')) as {
    metadata: { totalItems: number };
    items: { organization_number: string; name: string; relationship_state: string }[];
  } | null;
  const creditor = await own();
  const items = rel?.items ?? [];
  const nodes = await Promise.all(
    items.map(async (it) => {
      const o = encodeURIComponent(it.organization_number);
      const [business, score, accounting] = await Promise.all([
        byndle.call('GET', `/v1/lookup/business/${o}`),
        symetrisk
          .call('GET', `/get-credit-score/${encodeURIComponent(creditor)}/${o}`)
          .catch((e: unknown) => {
            if (e instanceof HttpError && e.status === 403) return null;
            throw e;
          }),
        symetrisk.call('GET', `/accounting-data/${o}?limit=12&skip=0`).catch((e: unknown) => {
          if (e instanceof HttpError && e.status === 403) return null;
          throw e;
        }),
      ]);
      const b = business as { orgNr: string; name: string; employees: number | null } | null;
      const s = score as { score: number; risk_class: string; probability_of_default: number } | null;
      const a = accounting as {
        items: { data: { snapshot_date: string; revenue: number; net_result: number; equity: number } }[];
      } | null;
      return {
        node: {
          organizationNumber: it.organization_number,
          name: it.name,
          relationshipState: it.relationship_state.toUpperCase(),
          business: b ? { organizationNumber: b.orgNr, name: b.name, employees: b.employees } : null,
          creditScore: s
            ? { score: s.score, riskClass: s.risk_class, probabilityOfDefault: s.probability_of_default }
            : null,
          accounting: {
            edges: (a?.items ?? []).map(({ data: d }) => ({
              node: {
                snapshotDate: d.snapshot_date,
                revenue: d.revenue,
                netResult: d.net_result,
                equity: d.equity,
              },
            })),
          },
        },
      };
    }),
  );
  return { borrowerRelationships: { totalCount: rel?.metadata.totalItems ?? null, edges: nodes } };
}

// ---- the server ----------------------------------------------------------------------------

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  if (req.headers['x-api-key'] !== apiKey) return send(res, 401, { error: 'unauthorised' });
  const url = new URL(req.url ?? '/', 'http://x');
  try {
    if (url.pathname === '/s1')
      return send(res, 200, { data: await personCard(url.searchParams.get('nationalId') ?? '') });
    if (url.pathname === '/s2')
      return send(res, 200, { data: await businessWithRoles(url.searchParams.get('orgNr') ?? '') });
    if (url.pathname === '/s3') return send(res, 200, { data: await borrowers() });
    return send(res, 404, { error: 'not found' });
  } catch (err) {
    return send(res, 502, { error: err instanceof Error ? err.message : 'upstream failed' });
  }
}

const server = createServer((req, res) => void handle(req, res));
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

process.on('message', (raw: { type: string; id?: number }) => {
  if (raw.type === 'stats') process.send?.({ type: 'stats', id: raw.id, rss: process.memoryUsage.rss() });
  else if (raw.type === 'close') {
    server.closeAllConnections();
    server.close();
    void Promise.all([byndle.close(), connect.close(), symetrisk.close()]).finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
