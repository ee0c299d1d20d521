// Artillery processor for loadtest/failover.yml, the failover load test
// (`scripts/load-test.sh --failover`): buyers spread over two Spin
// instances, every POST with an Idempotency-Key, every 503 retried with the
// same key until a definitive answer, and a record of what the clients were
// told, for the verifier to hold against the new primary:
//
//   <dir>/failover-acknowledged.jsonl  one line per booking answered 201
//     ({"kind":"booked","event","bookingId","seats"}), per cancellation
//     answered 204 ({"kind":"cancelled",...}) and per cancellation sent
//     ({"kind":"cancelling",...}: until it is answered 204 the buyer cannot
//     know whether it happened)
//   <dir>/failover-writes.jsonl  one line per answer: when it was sent
//     ("t", ms since the epoch), how long it took ("took", ms), "status",
//     "name" and "write" (false for GETs); plus {"gaveUp":true,...} lines
//     for a request still answered 503 after the retry cap
//
// <dir> is LOAD_TEST_RECORD_DIR (default target/load-test). Artillery runs
// this file in worker threads of one process; each line is one
// appendFileSync call, so lines never interleave.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { randomHallSeats } = require('./events');

// Tries per request before giving up on 503 (Artillery ignores a loop's
// `count` when it has `whileTrue`, so the cap is enforced here), and the
// pause between tries, in ms (the component answers 503 with Retry-After: 1;
// a quarter of that measures the outage more finely).
const MAX_TRIES = Number(process.env.LOAD_TEST_MAX_TRIES || 60);
const RETRY_PAUSE_MS = Number(process.env.LOAD_TEST_RETRY_PAUSE_MS || 250);
// A seed booking of the contended pool asks for one of this many seats.
const POOL_SEATS = 50;
// Share of direct bookings cancelled afterwards.
const CANCEL_SHARE = 0.4;

const recordDir = process.env.LOAD_TEST_RECORD_DIR || path.join('target', 'load-test');
const ACKNOWLEDGED = path.join(recordDir, 'failover-acknowledged.jsonl');
const WRITES = path.join(recordDir, 'failover-writes.jsonl');

function record(file, entry) {
  fs.appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

// The two instances (LOAD_TEST_TARGETS, comma-separated) and the run id.
const targets = (process.env.LOAD_TEST_TARGETS || 'http://127.0.0.1:3000')
  .split(',')
  .map((t) => t.trim().replace(/\/+$/, ''))
  .filter(Boolean);
let nextTarget = crypto.randomInt(targets.length);

// First step of every scenario: the instance this buyer talks to (the
// buyers alternate), the run's events, and a fresh retry state.
function startBuyer(context, _events, done) {
  const runId = process.env.LOAD_TEST_RUN_ID;
  if (!runId) {
    return done(new Error('LOAD_TEST_RUN_ID is not set (seed the run with loadtest/seed.js)'));
  }
  context.vars.base = targets[nextTarget];
  nextTarget = (nextTarget + 1) % targets.length;
  Object.assign(context.vars, {
    runId,
    hallEvent: `${runId}-hall`,
    arenaEvent: `${runId}-arena`,
    distinctSeat: `${runId}-${crypto.randomBytes(8).toString('hex')}`,
    poolSeat: `${runId}-pool-${crypto.randomInt(POOL_SEATS)}`,
    hallSeats: randomHallSeats(2),
    bestCount: 2 + crypto.randomInt(3),
    cancelWanted: Math.random() < CANCEL_SHARE
  });
  return done();
}

// Before each logical request (not before each try): a new Idempotency-Key
// and a clean slate, so the loop's tries all send the same key.
function newRequest(context, _events, done) {
  Object.assign(context.vars, {
    idemKey: crypto.randomUUID(),
    tries: 0,
    lastStatus: 0
  });
  return done();
}

// whileTrue of every retry loop: try again (after a pause) while the answer
// is 503 and the cap is not reached. A capped request is recorded.
function retryOn503(context, next) {
  const vars = context.vars;
  if (vars.lastStatus !== 503) {
    return next(false);
  }
  if (vars.tries >= MAX_TRIES) {
    record(WRITES, { gaveUp: true, name: vars.lastName, tries: vars.tries, t: Date.now() });
    return next(false);
  }
  return setTimeout(() => next(true), RETRY_PAUSE_MS);
}

// beforeRequest (every request): when it was sent.
function stampSent(_req, context, _events, done) {
  context.vars.sentAt = Date.now();
  return done();
}

// afterResponse (every request): records the answer, keeps what the next
// step needs (hold id and token, booking id and token), and records every
// acknowledged booking and cancellation.
function recordAnswer(req, res, context, events, done) {
  const vars = context.vars;
  const now = Date.now();
  const took = now - (vars.sentAt || now);
  const status = res.statusCode;
  const method = (req.method || 'GET').toUpperCase();
  const name = req.name || `${method} ${req.url}`;
  vars.tries += 1;
  vars.lastStatus = status;
  vars.lastName = name;
  record(WRITES, { t: vars.sentAt || now, took, status, name, write: method !== 'GET' });
  if (took >= 2000) {
    events.emit('counter', 'failover.answers_over_2s', 1);
  }
  if (status === 503) {
    events.emit('counter', 'failover.retried_503', 1);
  }

  let body = null;
  if (status === 201) {
    try {
      body = JSON.parse(res.body);
    } catch (_err) {
      events.emit('counter', 'loadtest.unparsable_201', 1);
    }
  }
  if (body && body.bookingId) {
    const seats = Array.isArray(body.seats) ? body.seats : [body.seatId];
    vars.bookingId = body.bookingId;
    vars.bookingToken = body.bookingToken;
    vars.bookedEvent = body.eventId;
    record(ACKNOWLEDGED, { kind: 'booked', event: body.eventId, bookingId: body.bookingId, seats });
    events.emit('counter', `loadtest.bookings_201.${body.eventId}`, 1);
    events.emit('counter', `loadtest.seats_201.${body.eventId}`, seats.length);
  } else if (body && body.holdId) {
    vars.holdId = body.holdId;
    vars.holdToken = body.holdToken;
    events.emit('counter', `loadtest.holds_201.${body.eventId}`, 1);
  }
  if (method === 'DELETE' && status === 204 && vars.cancelling) {
    record(ACKNOWLEDGED, { kind: 'cancelled', event: vars.bookedEvent, bookingId: vars.bookingId });
  }
  return done();
}

// Before the cancel loop: when this buyer cancels, says that the booking's
// cancellation was asked for (function steps take no ifTrue).
function startCancel(context, events, done) {
  const vars = context.vars;
  if (!cancelBooking(vars)) {
    return newRequest(context, events, done);
  }
  vars.cancelling = true;
  record(ACKNOWLEDGED, { kind: 'cancelling', event: vars.bookedEvent, bookingId: vars.bookingId });
  return newRequest(context, events, done);
}

// ifTrue conditions.
function holdGranted(vars) {
  return Boolean(vars.holdId && vars.holdToken);
}
function cancelBooking(vars) {
  return Boolean(vars.bookingId && vars.bookingToken && vars.cancelWanted);
}

module.exports = {
  startBuyer,
  newRequest,
  retryOn503,
  stampSent,
  recordAnswer,
  startCancel,
  holdGranted,
  cancelBooking
};
