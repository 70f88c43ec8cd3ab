// Imported first by bench/run.ts: chatgraph's logger takes LOG_LEVEL (through src/config.ts) when its module loads, and
// the bench output should carry only warnings from it (embedded Postgres start-up chatter is debug).
process.env.LOG_LEVEL ??= 'warn';
// The benchmarks drive one user (and one worker) far past the per-user abuse limits on purpose:
// they measure throughput, so those limits are lifted here (servers inherit this environment).
process.env.RATE_SENDS_PER_MINUTE ??= '0';
process.env.RATE_TOOL_RESULTS_PER_MINUTE ??= '0';
process.env.RATE_APPENDS_PER_MINUTE ??= '0';
process.env.RATE_PUBLISHES_PER_SECOND ??= '0';
process.env.RATE_FAILED_AUTH_PER_MINUTE ??= '0';
process.env.MAX_CONNECTIONS_PER_USER ??= '100000';
export {};
