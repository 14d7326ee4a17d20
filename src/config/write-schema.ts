/** Regenerates schemas/experiment.schema.json from the TypeBox definition. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { experimentJsonSchema } from './schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/experiment.schema.json', import.meta.url));

export function schemaFileText(): string {
  return JSON.stringify(experimentJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaFileText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
