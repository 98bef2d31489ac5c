// index.d.ts against the wire schemas: every property and enumerated value
// of schema/job.schema.json and schema/result.schema.json is in the types,
// and the types name nothing the schemas do not.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
const jobSchema = JSON.parse(read('../../../schema/job.schema.json'));
const resultSchema = JSON.parse(read('../../../schema/result.schema.json'));
const dts = read('../index.d.ts');

/** The text between the braces that follow the declaration head. */
function body(head) {
  const start = dts.indexOf(head);
  assert.notEqual(start, -1, `index.d.ts has no "${head}"`);
  let i = dts.indexOf('{', start);
  const from = i + 1;
  for (let depth = 0; ; i++) {
    if (dts[i] === '{') depth++;
    else if (dts[i] === '}' && --depth === 0) return dts.slice(from, i);
  }
}

/** The property names declared in an interface. */
function fields(name) {
  return [...body(`export interface ${name} `).matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1]);
}

/** The string literals of a union type or a property's type. */
function literals(text) {
  return [...text.matchAll(/'([^']*)'/g)].map((m) => m[1]).filter((s) => s !== '');
}

const sorted = (xs) => [...new Set(xs)].sort();

test('Job types name exactly the job schema properties', () => {
  const inTypes = sorted(['JobBase', 'P5Job', 'JsJob', 'VideoJob'].flatMap(fields));
  assert.deepEqual(inTypes, sorted(Object.keys(jobSchema.properties)));
});

test('SketchContext names exactly the context properties', () => {
  const context = jobSchema.properties.context.anyOf.find((s) => s.type === 'object');
  assert.deepEqual(sorted(fields('SketchContext')), sorted(Object.keys(context.properties)));
});

test('Result and Timings name exactly the result schema properties', () => {
  assert.deepEqual(sorted(fields('Result')), sorted(Object.keys(resultSchema.properties)));
  assert.deepEqual(sorted(fields('Timings')), sorted(Object.keys(resultSchema.properties.timings.properties)));
});

test('enumerated values match', () => {
  const propertyType = (iface, name) => {
    const line = body(`export interface ${iface} `).split('\n').find((l) => new RegExp(`^\\s*${name}\\??:`).test(l));
    assert.ok(line, `${iface}.${name} not found`);
    return literals(line);
  };
  const enumOf = (values) => sorted(values.filter((v) => v !== null && v !== ''));
  const branch = (type) => jobSchema.allOf.find((b) => JSON.stringify(b.if.properties?.type) === JSON.stringify({ const: type })).then;
  const errorCodes = dts.slice(dts.indexOf('export type ErrorCode'), dts.indexOf(';', dts.indexOf('export type ErrorCode')));
  for (const [what, inTypes, inSchema] of [
    ['type', ['P5Job', 'JsJob', 'VideoJob'].flatMap((i) => propertyType(i, 'type')), jobSchema.properties.type.enum],
    ['gpuComplexity', propertyType('JobBase', 'gpuComplexity'), jobSchema.properties.gpuComplexity.enum],
    ['p5Version', propertyType('JobBase', 'p5Version'), jobSchema.properties.p5Version.enum],
    ['outputType', propertyType('JsJob', 'outputType'), branch('js').properties.outputType.enum],
    ['format', propertyType('VideoJob', 'format'), branch('video').properties.format.enum],
    ['errorCode', literals(errorCodes), resultSchema.properties.errorCode.enum],
  ]) {
    assert.deepEqual(sorted(inTypes), enumOf(inSchema), what);
  }
});

test('every pattern in the schemas is an ECMAScript regular expression', () => {
  const patterns = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'pattern') patterns.push(x);
        else walk(x);
      }
    }
  };
  walk(jobSchema);
  walk(resultSchema);
  assert.ok(patterns.length >= 8, `${patterns.length} patterns`);
  for (const p of patterns) assert.doesNotThrow(() => new RegExp(p, 'u'), p);
  const bucket = new RegExp(jobSchema.properties.bucket.pattern, 'u');
  assert.ok(bucket.test('my-renders') && !bucket.test('a--b') && !bucket.test('-ab'));
  const variants = new RegExp(jobSchema.propertyNames.anyOf[1].not.pattern, 'u');
  assert.ok(variants.test('TYPE') && variants.test('buc\u212aet') && !variants.test('types'));
});
