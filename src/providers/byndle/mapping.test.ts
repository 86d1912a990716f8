import { describe, expect, it } from 'vitest';
import { business, vehicle } from './schemas.js';
import { ROLE_NAMES, ROLE_TYPES, toBusiness, toVehicle } from './mapping.js';

const address = {
  street: 'Storgata',
  houseNumber: '1',
  entrance: '',
  dwellingNumber: '',
  postalCode: '0150',
  city: 'OSLO',
  country: 'NO',
  fullAddress: 'Storgata 1, 0150 OSLO',
  validFrom: null,
  validTo: null,
};
const foreigner = {
  type: 'person',
  byndleId: null,
  firstName: 'Sven',
  middleName: null,
  lastName: 'Svensson',
  birthDate: '1970-01-01',
};

describe('Byndle mapping', () => {
  it('maps every Byndle role name to a distinct BusinessRoleType and back', () => {
    const types = Object.values(ROLE_TYPES);
    expect(new Set(types).size).toBe(17);
    for (const [name, type] of Object.entries(ROLE_TYPES)) expect(ROLE_NAMES[type]).toBe(name);
  });

  it('keeps a role holder without a Byndle id as a person summary instead of dropping them', () => {
    const b = toBusiness(
      business.parse({
        orgNr: '923609016',
        name: 'Test AS',
        organisationForm: 'AS',
        address,
        registeredDate: '2000-01-01',
        industryCode: '62.010',
        employees: 3,
        roles: [
          { role: 'Styremedlem', since: '2020-01-01', holder: foreigner },
          {
            role: 'Revisor',
            since: '2020-01-01',
            holder: { type: 'business', orgNr: '986000000', name: 'Rev AS' },
          },
          {
            role: 'Styrets leder',
            since: '2020-01-01',
            holder: { ...foreigner, byndleId: 'BY1', firstName: 'Ola', lastName: 'Nordmann' },
          },
        ],
      }),
    );
    expect(b.roles[0]).toMatchObject({
      role: 'BOARD_MEMBER',
      holder: null,
      holderSummary: { person: { firstName: 'Sven', byndleId: null } },
    });
    expect(b.roles[0]!.holderSummary!.person!.id).toMatch(/^byndle-unregistered:[\w-]{16}$/);
    expect(b.roles[1]).toMatchObject({
      role: 'AUDITOR',
      holder: { kind: 'business', organizationNumber: '986000000' },
      holderSummary: { businessName: 'Rev AS' },
    });
    expect(b.roles[2]).toMatchObject({ role: 'BOARD_CHAIR', holder: { kind: 'person', byndleId: 'BY1' } });
  });

  it('keeps a vehicle owner without a Byndle id as a person summary', () => {
    const v = toVehicle(
      vehicle.parse({
        regNr: 'EL12345',
        vin: 'WVWZZZ1JZXW000001',
        make: 'VW',
        model: 'Golf',
        year: 2020,
        color: 'Blue',
        fuel: 'Electric',
        firstRegistered: '2020-02-02',
        owner: foreigner,
      }),
    );
    expect(v.owner).toBeNull();
    expect(v.ownerSummary?.person).toMatchObject({ lastName: 'Svensson', market: 'NO' });
  });
});
