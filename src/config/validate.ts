/**
 * Pure schema validation: a value in, a list of problems out, each with the path of the
 * offending key or value so the caller can point at it in the YAML source.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { experimentJsonSchema } from './schema.js';
import { didYouMean } from './suggest.js';

export type PathSegment = string | number;

export interface Problem {
  path: PathSegment[];
  /** 'key' points at the key itself (unknown keys), 'value' at its value. */
  at: 'key' | 'value';
  message: string;
}

type Schema = Record<string, any>;

const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
const validateFn = ajv.compile(experimentJsonSchema());

export function validateExperiment(value: unknown): Problem[] {
  if (validateFn(value)) return [];
  return simplifyUnions(validateFn.errors ?? []).map(toProblem);
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

function typeMatches(schemaType: unknown, value: unknown): boolean {
  const t = jsonType(value);
  const types = Array.isArray(schemaType) ? schemaType : [schemaType];
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/** The discriminating `const` property of an object branch (`name` of a dataset, `type` of a model). */
function discriminator(branch: Schema): [string, unknown] | undefined {
  for (const [key, sub] of Object.entries<Schema>(branch.properties ?? {})) {
    if (sub && 'const' in sub) return [key, sub.const];
  }
  return undefined;
}

/**
 * ajv reports every failing branch of an anyOf, which buries the one real mistake.
 * Pick the branch the user evidently meant (by its discriminating key, else by JSON type)
 * and keep only its errors; when no branch fits, say once what the forms are.
 */
function simplifyUnions(errors: ErrorObject[]): ErrorObject[] {
  const removed = new Set<ErrorObject>();
  const added: ErrorObject[] = [];
  const unions = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (removed.has(union)) continue;
    removed.add(union);
    const branches = union.schema as Schema[];
    const data = union.data as unknown;
    const inBranch = (e: ErrorObject, i: number) => e.schemaPath.startsWith(`${union.schemaPath}/${i}/`);
    let chosen = -1;
    let discriminatorProblem: ErrorObject | undefined;
    if (data && typeof data === 'object' && !Array.isArray(data)) {
      const record = data as Record<string, unknown>;
      const keyed = branches.map(discriminator);
      const key = keyed.find((d) => d)?.[0];
      if (key !== undefined && keyed.every((d) => d?.[0] === key)) {
        chosen = keyed.findIndex((d) => d?.[1] === record[key]);
        if (chosen < 0) {
          const allowed = keyed.map((d) => String(d![1]));
          const got = record[key];
          discriminatorProblem = {
            ...union,
            keyword: 'x-discriminator',
            instancePath: `${union.instancePath}/${key}`,
            message:
              got === undefined
                ? `missing required key '${key}' (one of: ${allowed.join(', ')})`
                : `${key} must be one of: ${allowed.join(', ')} (got ${describe(got)})${didYouMean(String(got), allowed)}`,
            params: got === undefined ? { at: 'parent' } : {},
          };
        }
      }
    }
    if (chosen < 0 && !discriminatorProblem) {
      const fits = branches.map((b, i) => (typeMatches(b.type, data) ? i : -1)).filter((i) => i >= 0);
      if (fits.length === 1) chosen = fits[0]!;
    }
    // A schema path is shared by every instance it validates (each entry of `models`), so
    // a branch error belongs to this union only if it is also inside this union's value.
    const inside = (e: ErrorObject) =>
      e.schemaPath.startsWith(`${union.schemaPath}/`) &&
      (e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`));
    for (const e of errors) {
      if (e === union || !inside(e)) continue;
      if (chosen < 0 || !inBranch(e, chosen)) removed.add(e);
    }
    if (chosen < 0) {
      const forms = branches.map((b) =>
        b.const !== undefined ? `'${b.const}'` : b.properties ? `{${Object.keys(b.properties).join(', ')}}` : String(b.type),
      );
      added.push(
        discriminatorProblem ?? {
          ...union,
          keyword: 'x-union',
          message: `must be one of: ${forms.join(', ')} (got ${describe(data)})`,
        },
      );
    }
  }
  return [...errors.filter((e) => !removed.has(e)), ...added];
}

function toProblem(e: ErrorObject): Problem {
  const path = pointerToPath(e.instancePath);
  const got = describe(e.data);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const parent = e.parentSchema as Schema;
      const allowed = Object.keys(parent.properties ?? {});
      const where = path.length ? `'${path.join('.')}'` : 'the experiment';
      const pattern = Object.keys(parent.patternProperties ?? {})[0];
      const message = pattern
        ? `'${key}' is not a valid name here (must match ${pattern})`
        : `unknown key '${key}' in ${where}${didYouMean(key, allowed) || `; allowed keys: ${allowed.join(', ')}`}`;
      return { path: [...path, key], at: 'key', message };
    }
    case 'required': {
      const key = String(e.params.missingProperty);
      return { path, at: 'key', message: `missing required key '${key}'${path.length ? ` in '${path.join('.')}'` : ''}` };
    }
    case 'x-discriminator':
      return { path: e.params.at === 'parent' ? path.slice(0, -1) : path, at: 'value', message: e.message! };
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      return {
        path,
        at: 'value',
        message: `must be one of: ${allowed.join(', ')} (got ${got})${didYouMean(String(e.data), allowed)}`,
      };
    }
    case 'type':
      return { path, at: 'value', message: `must be ${article(String(e.params.type))}, got ${got}` };
    case 'minProperties':
      return { path, at: 'value', message: `must have at least ${String(e.params.limit)} entry` };
    case 'minItems':
      return { path, at: 'value', message: `must list at least ${String(e.params.limit)} value(s)` };
    case 'const':
      return { path, at: 'value', message: `must be '${String(e.params.allowedValue)}', got ${got}` };
    default:
      return { path, at: 'value', message: `${e.message ?? 'is invalid'}${e.keyword === 'x-union' ? '' : `, got ${got}`}` };
  }
}

function article(type: string): string {
  if (type === 'array') return 'a list';
  if (type === 'object') return 'a mapping';
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}
