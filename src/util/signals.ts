/**
 * SIGTERM/SIGINT for a server: the first signal calls `stop` (a graceful shutdown), a second one
 * calls `force` (give up waiting). Returns a function that removes the first-signal handlers.
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void, force: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    stop(signal);
  };
  const remove = () => {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return remove;
}
