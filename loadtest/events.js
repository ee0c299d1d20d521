// The load test's own events, created through the admin API with a run id
// unique to the run, so the bookings the verifier counts in Redis are
// exactly the ones this run made. Shared by the Artillery processor's
// `before` hook and by `seed.js`, which scripts/load-test.sh calls.
'use strict';

const crypto = require('node:crypto');

// hall: named-seat holds that get confirmed (20,000 seats, so buyers rarely
// collide). arena: best-available holds racing for the front rows (2,000
// seats, so a full run sells it out and the 409 path is exercised too).
// queue: an onsale with a waiting room (2,000 seats): buyers join, wait for
// their turn, then hold with the access token.
const LAYOUT = {
  hall: { rows: 200, seats: 100 },
  arena: { rows: 40, seats: 50 },
  queue: { rows: 40, seats: 50 }
};

// The queue's settings. Its outflow is set per run (LOAD_TEST_QUEUE_RATE,
// which scripts/load-test.sh sets per profile) so the queue builds up in
// the spike without making buyers wait past the end of the run.
function waitingRoom() {
  const rate = Number(process.env.LOAD_TEST_QUEUE_RATE || 600);
  return { admitPerMinute: rate, accessMinutes: 2 };
}

// A run id that is a valid event id prefix: lt-<time in base 36>-<random>.
function newRunId() {
  return `lt-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
}

// The event ids of a run, by role.
function eventIds(runId) {
  return { hall: `${runId}-hall`, arena: `${runId}-arena`, queue: `${runId}-queue` };
}

// The CreateEvent body for one role (rows R1..Rn).
function eventBody(id, role) {
  const { rows, seats } = LAYOUT[role];
  const body = {
    id,
    name: `load test ${id}`,
    rows: Array.from({ length: rows }, (_, i) => ({ label: `R${i + 1}`, seats }))
  };
  if (role === 'queue') body.waitingRoom = waitingRoom();
  return body;
}

// Creates the run's events (an existing one is fine: the script may have
// seeded it already). Without an admin token it only checks that they exist.
async function ensureEvents(target, adminToken, runId) {
  const ids = eventIds(runId);
  for (const [role, id] of Object.entries(ids)) {
    const res = adminToken
      ? await fetch(`${target}/api/events`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${adminToken}`,
            'content-type': 'application/json'
          },
          body: JSON.stringify(eventBody(id, role)),
          signal: AbortSignal.timeout(10000)
        })
      : await fetch(`${target}/api/events/${id}`, { signal: AbortSignal.timeout(10000) });
    const created = adminToken ? res.status === 201 || res.status === 409 : res.status === 200;
    if (!created) {
      const hint = adminToken ? '' : ' (set LOAD_TEST_ADMIN_TOKEN to create it)';
      throw new Error(
        `event ${id} at ${target}: HTTP ${res.status} ${await res.text()}${hint}`
      );
    }
  }
  return ids;
}

// Seats of the hall: `count` adjacent seats at a random place.
function randomHallSeats(count) {
  const { rows, seats } = LAYOUT.hall;
  const row = 1 + crypto.randomInt(rows);
  const first = 1 + crypto.randomInt(seats - count + 1);
  return Array.from({ length: count }, (_, i) => `R${row}-${first + i}`);
}

module.exports = { LAYOUT, newRunId, eventIds, eventBody, ensureEvents, randomHallSeats };
