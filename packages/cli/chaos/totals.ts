// The processor `pnpm chaos --stateful` runs: each input adds its amount to its account's total in a store and
// emits the new total, so a store that lost a change, or applied one twice, shows as a wrong total. Topic names
// come from the environment.
import { runningTotals } from '@exactly/testkit';
import { env } from './environment.js';

export default runningTotals({ id: env('CHAOS_GROUP'), input: env('CHAOS_INPUT'), output: env('CHAOS_LEFT') });
