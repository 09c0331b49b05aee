// jsonata-js on the same expressions and contexts as bench_expressions (JSON on stdin).
// Prints {cold, cached, nulls: {label: us}} in microseconds per evaluation (medians of rounds).
import jsonata from "jsonata";

const functions = {
  nowIso: () => new Date(0).toISOString(),
  coalesce: (...values) => values.find((v) => v !== undefined && v !== null) ?? null,
  len: (v) => (typeof v === "string" || Array.isArray(v) ? v.length : 0),
  toString: (v) => (v === undefined || v === null ? "" : String(v)),
  append: (base, value) => [
    ...(base === undefined || base === null ? [] : Array.isArray(base) ? base : [base]),
    ...(Array.isArray(value) ? value : [value]),
  ],
};

function compile(source) {
  const expression = jsonata(source);
  for (const [name, fn] of Object.entries(functions)) expression.registerFunction(name, fn);
  return expression;
}

async function medianMicros(rounds, calls, run) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await run(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / calls);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const spec = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));
const { expressions, context, rounds, nullCases } = spec;
const n = expressions.length;
const compiled = expressions.map(compile);
for (let r = 0; r < 20; r++) {  // let the JIT settle before measuring, as Python has no JIT
  for (const source of expressions) await compile(source).evaluate(context);
  for (const expression of compiled) await expression.evaluate(context);
}
const cold = await medianMicros(rounds, n, (i) => compile(expressions[i]).evaluate(context));
const cached = await medianMicros(rounds, n * 5, (i) => compiled[i % n].evaluate(context));
const nulls = {};
for (const { label, source, context: ctx } of nullCases) {
  const expression = compile(source);
  for (let r = 0; r < 200; r++) await expression.evaluate(ctx);
  nulls[label] = await medianMicros(rounds, 200, () => expression.evaluate(ctx));
}
console.log(JSON.stringify({ cold, cached, nulls }));
