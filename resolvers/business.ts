import type { BusinessModel, PartyRef, PersonModel } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import type { GatewayContext } from '../src/context.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import {
  businessId,
  type ByndleBusinessRoleModel,
  type PartySummary,
} from '../src/providers/byndle/mapping.js';
import { validateNorwegianOrgNumber } from '../src/security/identifiers.js';

/** Business fields a role or ownership record already answers (orgNr and name). */
const BUSINESS_SUMMARY_FIELDS = new Set(['__typename', 'id', 'organizationNumber', 'name']);

/**
 * True when every field the query selects on `typeName` below this field is in `allowed`.
 * Fields under an @include/@skip are counted as selected: when unsure, load.
 */
function selectsOnly(info: GraphQLResolveInfo, typeName: string, allowed: Set<string>): boolean {
  const applies = (t: string | undefined) => t === undefined || t === typeName || t === 'Party';
  const visit = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).every((sel) => {
      if (sel.kind === Kind.FIELD) return allowed.has(sel.name.value);
      if (sel.kind === Kind.INLINE_FRAGMENT)
        return !applies(sel.typeCondition?.name.value) || visit(sel.selectionSet);
      const fragment = info.fragments[sel.name.value];
      return !fragment || !applies(fragment.typeCondition.name.value) || visit(fragment.selectionSet);
    });
  return info.fieldNodes.every((node) => visit(node.selectionSet));
}

/**
 * A role holder or vehicle owner as a Person or a Business. A person costs one person-extended
 * call per distinct Byndle id per request (shared with every other path to that person). A
 * business costs one business call per organisation number, unless the query asks nothing of
 * it beyond what the record already says (organisation number, name): then it costs none, so
 * `holder { ... on Person { firstName } }` makes no business calls at all. A person without a
 * Byndle id (not registered in Norway) is answered from the record.
 */
export async function resolveParty(
  ref: PartyRef | null,
  summary: PartySummary | undefined,
  ctx: GatewayContext,
  info: GraphQLResolveInfo,
): Promise<PersonModel | BusinessModel | null> {
  if (!ref) return summary?.person ?? null;
  if (ref.kind === 'person')
    return (await ctx.loaders.byndle.personByByndleId.load(ref.byndleId))?.person ?? null;
  const orgNr = ref.organizationNumber;
  if (summary?.businessName !== undefined && selectsOnly(info, 'Business', BUSINESS_SUMMARY_FIELDS)) {
    return {
      id: businessId(orgNr),
      organizationNumber: orgNr,
      name: summary.businessName,
      form: null,
      address: null,
      registeredDate: null,
      industryCode: null,
      employees: null,
      roles: [],
    };
  }
  return ctx.loaders.byndle.business.load(orgNr);
}

export const businessResolvers: Resolvers = {
  Query: {
    business: (_root, { organizationNumber }, ctx) => {
      const orgNr = validateNorwegianOrgNumber(organizationNumber);
      if (!orgNr.ok) throw new InputError('organizationNumber', orgNr.expected);
      return ctx.loaders.byndle.business.load(orgNr.value);
    },
  },

  Business: {
    // The loader holds every role of the business (one call); filters are applied here, so
    // several `roles(types:)` selections on one business cost nothing extra.
    roles: (business, { types }) => {
      if (!types || types.length === 0) return business.roles;
      const wanted = new Set(types);
      return business.roles.filter((r) => wanted.has(r.role));
    },
  },

  BusinessRole: {
    holder: (role, _args, ctx, info) =>
      resolveParty(role.holder, (role as ByndleBusinessRoleModel).holderSummary, ctx, info),
  },

  Party: {
    // Only BusinessModel has an organisation number; every Person model lacks the field.
    __resolveType: (party) => ('organizationNumber' in party ? 'Business' : 'Person'),
  },

  Borrower: {
    business: (borrower, _args, ctx) => {
      const orgNr = validateNorwegianOrgNumber(borrower.organizationNumber);
      return orgNr.ok ? ctx.loaders.byndle.business.load(orgNr.value) : null;
    },
  },
};
