// Preloaded (node --import) into a contender's processes by `pnpm bench:profile --alloc`: V8's sampling heap
// profiler, counting every sampled allocation, the ones collected since included (what a heap snapshot cannot
// show: the garbage that sets the peak RSS). Each process writes alloc-<pid>.json into EXACTLY_ALLOC_DIR as it
// exits. Plain JavaScript: it runs before any loader.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.EXACTLY_ALLOC_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 32 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  // A same-thread session answers synchronously, so this works inside 'exit'.
  process.once('exit', () => {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (!error) writeFileSync(join(dir, `alloc-${process.pid}.json`), JSON.stringify(result.profile));
    });
  });
}
