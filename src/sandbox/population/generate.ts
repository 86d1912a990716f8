import type { Population, PopulationOptions } from './types.js';

// STUB: replaced by the deterministic generator.
export function generatePopulation(options: PopulationOptions = {}): Population {
  return {
    seed: options.seed ?? 1,
    persons: [],
    businesses: [],
    vehicles: [],
    customers: [],
    borrowers: [],
    personById: new Map(),
    personByNationalId: new Map(),
    personByGedi: new Map(),
    personByByndleId: new Map(),
    personByPhone: new Map(),
    businessByOrgNr: new Map(),
    vehicleByRegNr: new Map(),
    vehicleByVin: new Map(),
    customerByNumber: new Map(),
    borrowerByOrgNr: new Map(),
  };
}
