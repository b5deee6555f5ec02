// The running-totals processor (a store of one total per account) as `exactly run` loads it for
// `pnpm bench:state`; its topics come from the environment.
import { runningTotals } from '@exactly/testkit';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

export default runningTotals({ id: env('BENCH_GROUP'), input: env('BENCH_INPUT'), output: env('BENCH_OUTPUT') });
