// V8's JSON on a bundle file (argv[2]): JSON.parse, and Alga's canonical text (keys sorted,
// JSON.stringify(v, null, 2) + "\n"). Prints {parse, encode} in ms (medians) and the sha256 of
// the canonical text, so the caller can check the bytes match its own.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

function canonicalize(value) {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const key of Object.keys(value).sort()) out[key] = canonicalize(value[key]);
  return out;
}

function medianMs(rounds, run) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const rounds = Number(process.argv[3] ?? 5);
const text = readFileSync(process.argv[2], "utf8");
const value = JSON.parse(text);
const parse = medianMs(rounds, () => JSON.parse(text));
const encode = medianMs(rounds, () => JSON.stringify(canonicalize(value), null, 2) + "\n");
const canonical = JSON.stringify(canonicalize(value), null, 2) + "\n";
const sha256 = createHash("sha256").update(canonical, "utf8").digest("hex");
console.log(JSON.stringify({ parse, encode, sha256 }));
