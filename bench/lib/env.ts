// Imported first by bench/run.ts: chatgraph's logger reads LOG_LEVEL when its module loads, and
// the bench output should carry only warnings from it (embedded Postgres start-up chatter is debug).
process.env.LOG_LEVEL ??= 'warn';
export {};
