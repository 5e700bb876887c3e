// Preloaded into the service (node -r) only when BENCH_CPU_PROF=1: SIGUSR2 makes the process exit normally, which is
// what lets `--cpu-prof` write its profile (a process killed by a signal writes none). Not used otherwise.
process.on('SIGUSR2', () => process.exit(0));
