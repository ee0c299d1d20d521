// Seeds a load-test run's events before Artillery starts, so a wrong admin
// token or an unreachable service fails fast with a clear message.
//
//   LOAD_TEST_ADMIN_TOKEN=... node loadtest/seed.js http://127.0.0.1:3000 [run-id]
//
// Prints "<run id> <hall event> <arena event> <queue event>" on one line.
'use strict';

const { newRunId, ensureEvents } = require('./events');

async function main() {
  const [target, givenRunId] = process.argv.slice(2);
  if (!target) {
    throw new Error('usage: node loadtest/seed.js <target> [run-id]');
  }
  const token = process.env.LOAD_TEST_ADMIN_TOKEN;
  if (!token) {
    throw new Error('LOAD_TEST_ADMIN_TOKEN is not set');
  }
  const runId = givenRunId || newRunId();
  const ids = await ensureEvents(target.replace(/\/+$/, ''), token, runId);
  console.log(`${runId} ${ids.hall} ${ids.arena} ${ids.queue}`);
}

main().catch((err) => {
  console.error(`seed: ${err.message}`);
  process.exit(1);
});
