/* global process */
/**
 * Plain JavaScript so the top-level typecheck never needs this folder's packages (installed on
 * demand by `npm run bench`, absent in CI).
 * Hive Gateway / GraphQL Mesh composition over the sandbox's own OpenAPI documents (baseline b of
 * `npm run bench`). URLs and upstream bearer tokens come from the environment (test/bench/hive/hive.ts
 * sets them); `additionalTypeDefs` + `@resolveTo` add the links nordgraph has (person → customers,
 * borrower → score, accounting, business) as far as Mesh's declarative links reach.
 */
import { createPrefixTransform, defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const bearer = (name) => ({ Authorization: `Bearer ${env(name)}` });

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Byndle', {
        source: `${env('HIVE_BYNDLE_ORIGIN')}/openapi.json`,
        endpoint: env('HIVE_BYNDLE_ORIGIN'),
        operationHeaders: bearer('HIVE_BYNDLE_TOKEN'),
      }),
      // The three documents reuse type names (TokenResponse, Problem, ...): one prefix each.
      transforms: [createPrefixTransform({ value: 'Byndle_', includeRootOperations: false })],
    },
    {
      sourceHandler: loadOpenAPISubgraph('Connect', {
        source: `${env('HIVE_CONNECT_ORIGIN')}/openapi.json`,
        endpoint: env('HIVE_CONNECT_ORIGIN'),
        operationHeaders: bearer('HIVE_CONNECT_TOKEN'),
      }),
      // The three documents reuse type names (TokenResponse, Problem, ...): one prefix each.
      transforms: [createPrefixTransform({ value: 'Connect_', includeRootOperations: false })],
    },
    {
      sourceHandler: loadOpenAPISubgraph('Symetrisk', {
        source: `${env('HIVE_SYMETRISK_ORIGIN')}/openapi.json`,
        endpoint: env('HIVE_SYMETRISK_ORIGIN'),
        operationHeaders: bearer('HIVE_SYMETRISK_TOKEN'),
      }),
      // The three documents reuse type names (TokenResponse, Problem, ...): one prefix each.
      transforms: [createPrefixTransform({ value: 'Symetrisk_', includeRootOperations: false })],
    },
  ],
  additionalTypeDefs: /* GraphQL */ `
    extend type Symetrisk_Relationship {
      business: Byndle_v1_lookup_business_by_orgNr_response
        @resolveTo(
          sourceName: "Byndle"
          sourceTypeName: "Query"
          sourceFieldName: "v1_lookup_business_by_orgNr"
          requiredSelectionSet: "{ organization_number }"
          sourceArgs: { orgNr: "{root.organization_number}" }
        )
      creditScore: Symetrisk_api_v1_get_credit_score_by_creditor_organization_number_by_debtor_organization_number_response
        @resolveTo(
          sourceName: "Symetrisk"
          sourceTypeName: "Query"
          sourceFieldName: "api_v1_get_credit_score_by_creditor_organization_number_by_debtor_organization_number"
          requiredSelectionSet: "{ organization_number }"
          sourceArgs: {
            creditor_organization_number: "${env('HIVE_SYMETRISK_OWN_ORG_NR')}"
            debtor_organization_number: "{root.organization_number}"
          }
        )
      accounting(limit: Int): Symetrisk_api_v1_accounting_data_by_organization_number_response
        @resolveTo(
          sourceName: "Symetrisk"
          sourceTypeName: "Query"
          sourceFieldName: "api_v1_accounting_data_by_organization_number"
          requiredSelectionSet: "{ organization_number }"
          sourceArgs: { organization_number: "{root.organization_number}", limit: "{args.limit}" }
        )
    }
    extend type Byndle_ByndlePersonExtended {
      customers: Connect_post_capi_v1_client_credential_customers_check_response
        @resolveTo(
          sourceName: "Connect"
          sourceTypeName: "Mutation"
          sourceFieldName: "post_capi_v1_client_credential_customers_check"
          requiredSelectionSet: "{ person { mobile email } }"
          sourceArgs: { input: { credentials: ["{root.person.mobile}", "{root.person.email}"] } }
        )
    }
    extend type Connect_CheckedCredential {
      customer: Connect_capi_v1_client_customer_info_by_customerNumber_response
        @resolveTo(
          sourceName: "Connect"
          sourceTypeName: "Query"
          sourceFieldName: "capi_v1_client_customer_info_by_customerNumber"
          requiredSelectionSet: "{ customerNumber }"
          sourceArgs: { customerNumber: "{root.customerNumber}" }
        )
    }
  `,
});
