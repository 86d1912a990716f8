import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import { BYNDLE_ROLES, type ByndleRole, type Person, type Population } from '../population/types.js';
import { addressJson, fail, normalisePhone, partyJson, personJson, reservationsJson } from './format.js';
import { findBestMatch, namesMatch } from './matching.js';
import {
  BusinessSchema,
  MatchedPersonSchema,
  PersonExtendedSchema,
  PersonSchema,
  PhoneSchema,
  ReservationsSchema,
  VehicleSchema,
  bearerSecurity,
  errors,
  json,
} from './schemas.js';

/** Reverse indexes the extended lookup needs, built once per population. */
interface LookupIndex {
  household: Map<string, Person[]>;
  vehiclesByPerson: Map<string, Population['vehicles']>;
  rolesByPerson: Map<string, { orgNr: string; businessName: string; role: ByndleRole; since: string }[]>;
}
const lookupIndexes = new WeakMap<Population, LookupIndex>();

function lookupIndex(pop: Population): LookupIndex {
  let idx = lookupIndexes.get(pop);
  if (idx) return idx;
  idx = { household: new Map(), vehiclesByPerson: new Map(), rolesByPerson: new Map() };
  for (const p of pop.persons) {
    if (p.market !== 'NO') continue;
    const list = idx.household.get(p.householdId);
    if (list) list.push(p);
    else idx.household.set(p.householdId, [p]);
  }
  for (const v of pop.vehicles) {
    if (v.owner.kind !== 'person') continue;
    const list = idx.vehiclesByPerson.get(v.owner.personId);
    if (list) list.push(v);
    else idx.vehiclesByPerson.set(v.owner.personId, [v]);
  }
  for (const b of pop.businesses) {
    for (const r of b.roles) {
      if (r.holder.kind !== 'person') continue;
      const item = { orgNr: b.orgNr, businessName: b.name, role: r.role, since: r.since };
      const list = idx.rolesByPerson.get(r.holder.personId);
      if (list) list.push(item);
      else idx.rolesByPerson.set(r.holder.personId, [item]);
    }
  }
  lookupIndexes.set(pop, idx);
  return idx;
}

/** Byndle serves Norwegian persons only: anyone else is "not found". */
function noPerson(pop: Population, q: { byndleId?: string; nationalId?: string }): Person | undefined {
  const p = q.byndleId
    ? pop.personByByndleId.get(q.byndleId)
    : q.nationalId
      ? pop.personByNationalId.get(q.nationalId)
      : undefined;
  return p?.market === 'NO' ? p : undefined;
}

const IdentifyQuery = z.object({
  byndleId: z.string().optional().openapi({ description: 'Byndle person id', example: 'BY4662EF92' }),
  nationalId: z
    .string()
    .optional()
    .openapi({ description: 'Norwegian fødselsnummer or D-number (11 digits)', example: '01017012345' }),
});

const PersonLookupBody = z
  .object({
    nationalId: z
      .string()
      .regex(/^\d{11}$/)
      .optional()
      .openapi({ description: 'Fødselsnummer / D-number' }),
    firstName: z.string().max(100).optional().openapi({ example: 'Ola' }),
    lastName: z.string().max(100).optional().openapi({ example: 'Nordmann' }),
    street: z.string().max(200).optional().openapi({ example: 'Storgata' }),
    houseNumber: z.string().max(20).optional().openapi({ example: '12' }),
    postalCode: z
      .string()
      .regex(/^\d{1,4}$/)
      .optional()
      .openapi({ example: '0150' }),
    birthDate: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional()
      .openapi({ example: '1970-01-01' }),
    mobile: z.string().max(20).optional().openapi({ example: '+4791234567' }),
  })
  .strict()
  .openapi('ByndlePersonLookupInput');

export function registerLookupRoutes(app: OpenAPIHono<SandboxEnv>, ctx: SandboxContext): void {
  const personRoute = createRoute({
    method: 'post',
    path: '/v1/lookup/person',
    tags: ['Lookup'],
    summary: 'Person',
    security: bearerSecurity,
    description: [
      'Enriched person data from matching the provided data. Send `nationalId`, or `firstName` + `lastName`',
      'with at least one of `street`, `postalCode`, `birthDate`, and/or `mobile`.',
      'Order: a national id identifies the person directly (matchLevel 1, matchedOn nationalId);',
      'else a mobile number identifies its owner (matchLevel 1, matchedOn mobile) provided the names,',
      'when sent, SOUNDEX-match the owner; else names and address are matched with the match-level table',
      '(levels 2-12, best level wins; names compared with SOUNDEX, street on its first three letters).',
      'Only persons registered in Norway are served. 404 when nothing matches.',
    ].join(' '),
    request: { body: { content: { 'application/json': { schema: PersonLookupBody } }, required: true } },
    responses: {
      200: json(MatchedPersonSchema, 'The matched person'),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(personRoute, (c) => {
    const body = c.req.valid('json');
    const pop = ctx.population;
    const hasNames = !!(body.firstName?.trim() && body.lastName?.trim());
    if (!body.nationalId && !body.mobile && !(hasNames && (body.street || body.postalCode || body.birthDate)))
      return fail(
        c,
        400,
        'BadRequest',
        'Provide nationalId, mobile, or firstName and lastName with street, postalCode or birthDate',
      );
    if (body.nationalId) {
      const p = noPerson(pop, { nationalId: body.nationalId });
      if (p) return c.json({ ...personJson(p), matchLevel: 1, matchedOn: 'nationalId' as const }, 200);
    }
    if (body.mobile) {
      const number = normalisePhone(body.mobile);
      if (!number) return fail(c, 400, 'BadRequest', 'mobile must be a phone number, e.g. +4791234567');
      const p = pop.personByPhone.get(number);
      const namesOk =
        !hasNames || (p && namesMatch({ firstName: body.firstName ?? '', lastName: body.lastName ?? '' }, p));
      if (p?.market === 'NO' && namesOk)
        return c.json({ ...personJson(p), matchLevel: 1, matchedOn: 'mobile' as const }, 200);
    }
    if (hasNames) {
      const m = findBestMatch(pop, {
        firstName: body.firstName ?? '',
        lastName: body.lastName ?? '',
        street: body.street,
        houseNumber: body.houseNumber,
        postalCode: body.postalCode,
        birthDate: body.birthDate,
        nationalId: body.nationalId,
      });
      if (m)
        return c.json(
          { ...personJson(m.person), matchLevel: m.level, matchedOn: 'nameAndAddress' as const },
          200,
        );
    }
    return fail(c, 404, 'NotFound', 'No person matched the provided data');
  });

  const extendedRoute = createRoute({
    method: 'get',
    path: '/v1/lookup/person/extended',
    tags: ['Lookup'],
    summary: 'Person extended',
    security: bearerSecurity,
    description:
      'Extended person data from several registers: the person (Folkeregisteret), address history, household members, properties (Matrikkelen), vehicles owned (Statens vegvesen) and business roles held (Brønnøysundregistrene). Identify the person with `byndleId` or `nationalId` (400 when neither; 404 when unknown or not registered in Norway).',
    request: { query: IdentifyQuery },
    responses: {
      200: json(PersonExtendedSchema, 'The person with data from several registers'),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(extendedRoute, (c) => {
    const q = c.req.valid('query');
    if (!q.byndleId && !q.nationalId) return fail(c, 400, 'BadRequest', 'Provide byndleId or nationalId');
    const pop = ctx.population;
    const p = noPerson(pop, q);
    if (!p) return fail(c, 404, 'NotFound', 'No person with that id');
    const idx = lookupIndex(pop);
    // Household and addresses can change through the control API; compare live values.
    const members = (idx.household.get(p.householdId) ?? []).filter(
      (m) => m !== p && m.householdId === p.householdId,
    );
    return c.json(
      {
        person: personJson(p),
        addressHistory: p.addresses.map(addressJson),
        household: {
          householdId: p.householdId,
          buildingType: p.buildingType,
          members: members.map((m) => ({
            byndleId: m.byndleId ?? '',
            firstName: m.firstName,
            lastName: m.lastName,
            birthDate: m.birthDate,
            gender: m.gender,
          })),
        },
        properties: p.properties.map((propertyId) => {
          const m = /^(\d{4})-(\d+)\/(\d+)/.exec(propertyId);
          return {
            propertyId,
            municipalityNumber: m?.[1] ?? null,
            gnr: m ? Number(m[2]) : null,
            bnr: m ? Number(m[3]) : null,
          };
        }),
        vehicles: (idx.vehiclesByPerson.get(p.id) ?? []).map((v) => ({
          regNr: v.regNr,
          vin: v.vin,
          make: v.make,
          model: v.model,
          year: v.year,
        })),
        businessRoles: idx.rolesByPerson.get(p.id) ?? [],
        phones: p.phones.map((ph) => ({ number: ph.number, type: ph.type })),
      },
      200,
    );
  });

  const phonesRoute = createRoute({
    method: 'get',
    path: '/v1/lookup/person/phones',
    tags: ['Lookup'],
    summary: 'Person phones',
    security: bearerSecurity,
    description:
      'Phone numbers (E.164) of the person identified by `byndleId` or `nationalId`, mobile numbers first. An empty list when the person has none.',
    request: { query: IdentifyQuery },
    responses: {
      200: json(
        z
          .object({
            byndleId: z.string(),
            phones: z.array(
              PhoneSchema.extend({
                reservedPhoneSale: z.boolean().openapi({ description: 'Owner reserved against phone sales' }),
              }),
            ),
          })
          .openapi('ByndlePersonPhones'),
        'Phones of the person',
      ),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(phonesRoute, (c) => {
    const q = c.req.valid('query');
    if (!q.byndleId && !q.nationalId) return fail(c, 400, 'BadRequest', 'Provide byndleId or nationalId');
    const p = noPerson(ctx.population, q);
    if (!p) return fail(c, 404, 'NotFound', 'No person with that id');
    const phones = [...p.phones]
      .sort((a, b) => (a.type === b.type ? 0 : a.type === 'mobile' ? -1 : 1))
      .map((ph) => ({ number: ph.number, type: ph.type, reservedPhoneSale: p.reservations.phoneSale }));
    return c.json({ byndleId: p.byndleId ?? '', phones }, 200);
  });

  const PhoneParam = z.object({
    phoneNumber: z.string().openapi({
      param: { name: 'phoneNumber', in: 'path' },
      example: '+4791234567',
      description: 'E.164; 8 digits are read as Norwegian',
    }),
  });

  const phoneRoute = createRoute({
    method: 'get',
    path: '/v1/lookup/phone/{phoneNumber}',
    tags: ['Lookup'],
    summary: 'Phone number',
    security: bearerSecurity,
    description:
      'The person who owns the phone number. 400 when it is not a phone number; 404 when the number is unknown or its owner is not registered in Norway.',
    request: { params: PhoneParam },
    responses: {
      200: json(
        z
          .object({ phoneNumber: z.string(), type: z.enum(['mobile', 'landline']), owner: PersonSchema })
          .openapi('ByndlePhoneOwner'),
        'Owner of the number',
      ),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(phoneRoute, (c) => {
    const number = normalisePhone(c.req.valid('param').phoneNumber);
    if (!number) return fail(c, 400, 'BadRequest', 'phoneNumber must be E.164, e.g. +4791234567');
    const p = ctx.population.personByPhone.get(number);
    const phone = p?.phones.find((ph) => ph.number === number);
    if (!p || !phone || p.market !== 'NO')
      return fail(c, 404, 'NotFound', 'No owner found for the phone number');
    return c.json({ phoneNumber: number, type: phone.type, owner: personJson(p) }, 200);
  });

  const reservationRoute = createRoute({
    method: 'get',
    path: '/v1/lookup/phone/{phoneNumber}/reservations',
    tags: ['Lookup'],
    summary: 'Phone number reservation',
    security: bearerSecurity,
    description:
      'Reservation statuses (Reservasjonsregisteret) of the person who owns the number: direct mail, phone sales, humanitarian organisations.',
    request: { params: PhoneParam },
    responses: {
      200: json(
        ReservationsSchema.extend({ phoneNumber: z.string(), byndleId: z.string() }).openapi(
          'ByndlePhoneReservations',
        ),
        'Reservation statuses of the owner',
      ),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(reservationRoute, (c) => {
    const number = normalisePhone(c.req.valid('param').phoneNumber);
    if (!number) return fail(c, 400, 'BadRequest', 'phoneNumber must be E.164, e.g. +4791234567');
    const p = ctx.population.personByPhone.get(number);
    if (!p || p.market !== 'NO') return fail(c, 404, 'NotFound', 'No owner found for the phone number');
    return c.json({ phoneNumber: number, byndleId: p.byndleId ?? '', ...reservationsJson(p) }, 200);
  });

  const businessRoute = createRoute({
    method: 'get',
    path: '/v1/lookup/business/{orgNr}',
    tags: ['Lookup'],
    summary: 'Business',
    security: bearerSecurity,
    description: `Enriched business data for a Norwegian organisation number (9 digits) with its roles. \`roles\` filters the roles returned: repeat the parameter or separate names with commas; names are Brønnøysund role names, exactly: ${BYNDLE_ROLES.join('; ')}. An unknown role name gives 400. Without \`roles\` every role is returned. A role holder is a person (byndleId, names, birth date) or a business (orgNr, name).`,
    request: {
      params: z.object({
        orgNr: z.string().openapi({ param: { name: 'orgNr', in: 'path' }, example: '923609016' }),
      }),
      query: z.object({
        roles: z
          .union([z.string(), z.array(z.string())])
          .optional()
          .openapi({
            description: 'Role names to include',
            example: 'Styrets leder,Daglig leder/administrerende direktør',
          }),
      }),
    },
    responses: {
      200: json(BusinessSchema, 'The business with its (filtered) roles'),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(businessRoute, (c) => {
    const orgNr = c.req.valid('param').orgNr.replace(/\s/g, '');
    if (!/^\d{9}$/.test(orgNr)) return fail(c, 400, 'BadRequest', 'orgNr must be 9 digits');
    const raw = c.req.valid('query').roles;
    const wanted = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw])
      .flatMap((r) => r.split(','))
      .map((r) => r.trim())
      .filter(Boolean);
    const known = new Set<string>(BYNDLE_ROLES);
    const unknown = wanted.filter((r) => !known.has(r));
    if (unknown.length > 0)
      return fail(
        c,
        400,
        'BadRequest',
        `Unknown role(s): ${unknown.join(', ')}. Valid roles: ${BYNDLE_ROLES.join('; ')}`,
      );
    const pop = ctx.population;
    const b = pop.businessByOrgNr.get(orgNr);
    if (!b) return fail(c, 404, 'NotFound', 'No business with that organisation number');
    const roles = b.roles
      .filter((r) => wanted.length === 0 || wanted.includes(r.role))
      .map((r) => ({ role: r.role, since: r.since, holder: partyJson(pop, r.holder) }));
    return c.json(
      {
        orgNr: b.orgNr,
        name: b.name,
        organisationForm: b.form,
        address: addressJson(b.address),
        registeredDate: b.registeredDate,
        industryCode: b.industryCode,
        employees: b.employees,
        roles,
      },
      200,
    );
  });

  const vehicleRoute = createRoute({
    method: 'get',
    path: '/v1/lookup/vehicle',
    tags: ['Lookup'],
    summary: 'Vehicle',
    security: bearerSecurity,
    description:
      'Vehicle and owner (a person or a business) by `regNr` (spaces and case ignored, e.g. "EL 12345") or `vin` (17 characters). 400 when neither is sent; 404 when unknown.',
    request: {
      query: z.object({
        regNr: z.string().optional().openapi({ example: 'EL12345' }),
        vin: z.string().optional().openapi({ example: 'WVWZZZ1JZXW000001' }),
      }),
    },
    responses: {
      200: json(VehicleSchema, 'The vehicle and its owner'),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(vehicleRoute, (c) => {
    const q = c.req.valid('query');
    const pop = ctx.population;
    if (!q.regNr && !q.vin) return fail(c, 400, 'BadRequest', 'Provide regNr or vin');
    if (q.vin && !/^[A-HJ-NPR-Z0-9]{17}$/i.test(q.vin.trim()))
      return fail(c, 400, 'BadRequest', 'vin must be 17 characters (no I, O or Q)');
    const v = q.regNr
      ? pop.vehicleByRegNr.get(q.regNr.replace(/\s/g, '').toUpperCase())
      : pop.vehicleByVin.get((q.vin ?? '').trim().toUpperCase());
    if (!v) return fail(c, 404, 'NotFound', 'No vehicle found');
    return c.json(
      {
        regNr: v.regNr,
        vin: v.vin,
        make: v.make,
        model: v.model,
        year: v.year,
        color: v.color,
        fuel: v.fuel,
        firstRegistered: v.firstRegistered,
        owner: partyJson(pop, v.owner),
      },
      200,
    );
  });
}
