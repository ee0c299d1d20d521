// Artillery processor for load-test.yml: picks the run's target and events
// before the load starts, picks seats for each virtual user, and counts the
// 201s that booked or held something per event, so the verifier
// (loadtest/verifier) can hold them against what Redis stored.
'use strict';

const crypto = require('node:crypto');
const { newRunId, ensureEvents, randomHallSeats } = require('./events');

// The target: `--target` wins, then LOAD_TEST_TARGET, then the file's default.
// This runs in Artillery's main thread, where the command line is visible.
function resolveTarget(fileOrFlagTarget) {
  const flagGiven = process.argv.some(
    (a) => a === '-t' || a === '--target' || a.startsWith('--target=')
  );
  return !flagGiven && process.env.LOAD_TEST_TARGET
    ? process.env.LOAD_TEST_TARGET.replace(/\/+$/, '')
    : fileOrFlagTarget;
}

// `before` hook: fixes the target and the run's events. Its variables are
// copied into every virtual user's context.
async function prepareRun(context) {
  const target = resolveTarget(context.vars.target);
  const runId = process.env.LOAD_TEST_RUN_ID || newRunId();
  const token = process.env.LOAD_TEST_ADMIN_TOKEN || process.env.SPIN_VARIABLE_ADMIN_TOKEN;
  const ids = await ensureEvents(target, token, runId);
  Object.assign(context.vars, {
    target,
    runId,
    hallEvent: ids.hall,
    arenaEvent: ids.arena,
    queueEvent: ids.queue
  });
  console.log(`load test run ${runId} against ${target}: events ${ids.hall}, ${ids.arena}, ${ids.queue}`);
}

// A seat of the default event nobody else asks for (64 random bits).
function pickDistinctSeat(context, _events, done) {
  context.vars.distinctSeat = `${context.vars.runId}-${crypto.randomBytes(8).toString('hex')}`;
  return done();
}

// Two adjacent hall seats at a random place (other buyers may want them too),
// and whether the buyer confirms (90%) or walks away: those holds are still
// live when the run ends, so the verifier checks live holds' TTLs too.
function pickHallSeats(context, _events, done) {
  context.vars.hallSeats = randomHallSeats(2);
  context.vars.namedOutcome = Math.random() < 0.9 ? 'confirm' : 'abandon';
  return done();
}

// What a best-available buyer does with the hold: confirm (60%), release
// (25%) or walk away and let it expire (15%).
function pickBestOutcome(context, _events, done) {
  const roll = Math.random();
  context.vars.bestOutcome = roll < 0.6 ? 'confirm' : roll < 0.85 ? 'release' : 'abandon';
  context.vars.bestCount = 2 + crypto.randomInt(3);
  return done();
}

// ifTrue conditions: a step runs only if the hold before it was granted.
function holdGranted(vars) {
  return Boolean(vars.holdId && vars.holdToken);
}
function confirmNamed(vars) {
  return holdGranted(vars) && vars.namedOutcome === 'confirm';
}
function confirmBest(vars) {
  return holdGranted(vars) && vars.bestOutcome === 'confirm';
}
function releaseBest(vars) {
  return holdGranted(vars) && vars.bestOutcome === 'release';
}

// The waiting room. A buyer polls their ticket as its Retry-After says,
// at most MAX_POLLS times (a buyer who would wait past that walks away).
const MAX_POLLS = 60;

// Function step before each poll: waits the Retry-After of the last one.
function waitForTurn(context, _events, done) {
  const seconds = context.vars.retryAfter || 0;
  setTimeout(done, seconds * 1000);
}

// afterResponse of a poll: notes the access token once admitted, else the
// suggested wait; counts admissions and measures join-to-admission time.
function readTicket(_req, res, context, events, done) {
  const vars = context.vars;
  vars.polls = (vars.polls || 0) + 1;
  vars.joinedAt = vars.joinedAt || Date.now();
  let body = null;
  try {
    body = JSON.parse(res.body);
  } catch (_err) {
    body = null;
  }
  if (res.statusCode === 200 && body && body.admitted && body.accessToken) {
    vars.accessToken = body.accessToken;
    events.emit('counter', `loadtest.queue_admitted.${body.eventId}`, 1);
    events.emit('histogram', 'loadtest.queue_wait_ms', Date.now() - vars.joinedAt);
  } else {
    const retry = Number(res.headers['retry-after']);
    vars.retryAfter = retry >= 1 && retry <= 30 ? retry : 2;
  }
  return done();
}

// Marks when the buyer joined, for the wait histogram.
function noteJoin(_req, _res, context, _events, done) {
  context.vars.joinedAt = Date.now();
  return done();
}

// whileTrue of the polling loop.
function stillQueued(context, next) {
  const vars = context.vars;
  return next(Boolean(vars.ticketId) && !vars.accessToken && (vars.polls || 0) < MAX_POLLS);
}

// ifTrue: the buyer was admitted.
function admitted(vars) {
  return Boolean(vars.accessToken);
}

// afterResponse: one counter per 201 that booked (and per seat it booked),
// and per 201 that held, keyed by event id. The verifier compares these with
// the bookings and holds stored in Redis.
function countCreated(_req, res, _context, events, done) {
  if (res.statusCode === 201) {
    let body = null;
    try {
      body = JSON.parse(res.body);
    } catch (_err) {
      events.emit('counter', 'loadtest.unparsable_201', 1);
    }
    if (body && body.bookingId) {
      const seats = Array.isArray(body.seats) ? body.seats.length : 1;
      events.emit('counter', `loadtest.bookings_201.${body.eventId}`, 1);
      events.emit('counter', `loadtest.seats_201.${body.eventId}`, seats);
    } else if (body && body.holdId) {
      events.emit('counter', `loadtest.holds_201.${body.eventId}`, 1);
    } else if (body && body.ticketId) {
      events.emit('counter', `loadtest.tickets_201.${body.eventId}`, 1);
    }
  }
  return done();
}

module.exports = {
  prepareRun,
  pickDistinctSeat,
  pickHallSeats,
  pickBestOutcome,
  holdGranted,
  confirmNamed,
  confirmBest,
  releaseBest,
  waitForTurn,
  readTicket,
  noteJoin,
  stillQueued,
  admitted,
  countCreated
};
