import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { buildSchema } from '../src/schema.js';

/** `npm run schema:print [file]`: the merged SDL for schema tools (default: schema.graphql). */
const out = process.argv[2] ?? 'schema.graphql';
writeFileSync(out, printSchema(buildSchema()) + '\n');
console.log(`wrote ${out}`);
