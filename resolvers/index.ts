import type { Resolvers } from '../src/generated/resolvers-types.js';
import { bisnodePersonResolvers } from './bisnode-person.js';
import { borrowerResolvers } from './borrower.js';
import { auditResolvers } from './audit.js';
import { commonResolvers } from './common.js';
import { consumerResolvers } from './consumer.js';
import { customerResolvers } from './customer.js';
import { eventResolvers } from './events.js';
import { byndleResolvers } from './person.js';

/** One resolver map per schema file, merged here. */
export const resolvers: Resolvers[] = [
  bisnodePersonResolvers,
  consumerResolvers,
  borrowerResolvers,
  auditResolvers,
  commonResolvers,
  customerResolvers,
  eventResolvers,
  ...byndleResolvers,
];
