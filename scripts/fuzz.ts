// npm run fuzz [-- <seconds> [seed]]: the suite's robustness fuzzing, for longer. Prints the seed of any failure.
import { fuzz } from "../test/helpers/fuzz.ts";

const seconds = Number(process.argv[2] ?? 60);
let seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const end = Date.now() + seconds * 1000;
let inputs = 0;
let parsed = 0;
let slowest = 0;
while (Date.now() < end) {
  const s = fuzz(20_000, seed++);
  inputs += s.inputs;
  parsed += s.parsed;
  slowest = Math.max(slowest, s.slowestMs);
}
console.log(`${inputs} inputs (${parsed} parsed) without an unexpected exception; slowest ${slowest.toFixed(1)} ms; last seed ${seed - 1}`);
