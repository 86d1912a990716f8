import { InputError } from '../src/errors.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';
import type { ByndleVehicleModel } from '../src/providers/byndle/mapping.js';
import { validateVehicleRegistration, validateVin } from '../src/security/identifiers.js';
import { resolveParty } from './business.js';

export const vehicleResolvers: Resolvers = {
  Query: {
    vehicle: (_root, { registrationNumber, vin }, ctx) => {
      if ((registrationNumber == null) === (vin == null)) {
        throw new InputError('registrationNumber', 'exactly one of registrationNumber or vin');
      }
      if (registrationNumber != null) {
        const reg = validateVehicleRegistration(registrationNumber);
        if (!reg.ok) throw new InputError('registrationNumber', reg.expected);
        return ctx.loaders.byndle.vehicleByRegNr.load(reg.value);
      }
      const v = validateVin(vin ?? '');
      if (!v.ok) throw new InputError('vin', v.expected);
      return ctx.loaders.byndle.vehicleByVin.load(v.value);
    },
  },

  Vehicle: {
    owner: (vehicle, _args, ctx, info) =>
      resolveParty(vehicle.owner, (vehicle as ByndleVehicleModel).ownerSummary, ctx, info),
  },
};
