/**
 * KafkaJS 2.2.4 arms timers with negative delays on current Node versions, which prints a
 * TimeoutNegativeWarning per process (harmless: Node clamps the delay to 1 ms). Hide that one warning only.
 */
let installed = false;

export function quietKafkaJsWarnings(): void {
  if (installed) return;
  installed = true;
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    for (const listener of listeners) listener(warning);
  });
}
