// The seat map page of an event with a waiting room, in a real browser
// (Debian's headless Chromium) against the component under real `spin up`
// and a real Redis: opening the event joins the queue and shows the
// buyer's place and wait; the map opens by itself when the turn comes,
// holds then carry the access token, and the token is kept in memory only.
// Run with scripts/browser-test.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Stage, OUTPUT } from './harness.mjs';

const EVENT = 'onsale';
const ROWS = ['A', 'B', 'C'].map((label) => ({ label, seats: 12 }));
// Turns three seconds apart: the page's buyer, third in line, waits about six.
const WAITING_ROOM = { admitPerMinute: 20, accessMinutes: 5 };

const stage = new Stage();
let redis;
let host;
let browser;

before(async () => {
  await stage.start(EVENT, 'Big onsale', ROWS, { waitingRoom: WAITING_ROOM });
  ({ redis, host, browser } = stage);
});

after(() => stage.stop());

test('a queued event shows the buyer their place, then opens the map when admitted', async () => {
  // Two buyers are in line already.
  for (const expected of [1, 2]) {
    const joined = await host.api('POST', `/api/events/${EVENT}/queue`);
    assert.equal(joined.status, 201);
    assert.equal(joined.body.position, expected);
  }
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const holds = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith(`/api/events/${EVENT}/holds`)) holds.push(r.headers().authorization || '');
  });

  await page.goto(`${host.url}/events/${EVENT}`);
  const place = page.locator('#queue-place');
  await place.filter({ hasText: 'place 3 in line' }).waitFor({ timeout: 10000 });
  assert.ok(await page.locator('#queue').isVisible(), 'the waiting room is shown');
  assert.ok(!(await page.locator('#map').isVisible()), 'the map is not shown while waiting');
  assert.ok(!(await page.locator('#best').isVisible()), 'nor the actions');
  assert.match(await place.textContent(), /(ahead of you|You are next): your turn comes in about \d+ s/);
  await page.screenshot({ path: path.join(OUTPUT, 'browser-waiting-room.png') });

  // The turn comes about six seconds after the first buyer's: the map opens.
  await page.locator('#live', { hasText: 'Live' }).waitFor({ timeout: 20000 });
  assert.ok(await page.locator('#map').isVisible());
  assert.ok(!(await page.locator('#queue').isVisible()));
  await page.locator('#message', { hasText: 'your turn' }).waitFor();

  // A hold carries the access token, and works.
  await page.locator('button.seat[data-seat="B-5"]').click();
  await page.locator('#hold').click();
  await page.locator('button.seat[data-seat="B-5"].s-mine').waitFor({ state: 'attached', timeout: 10000 });
  assert.equal(holds.length, 1);
  assert.match(holds[0], /^Bearer v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const seats = await host.api('GET', `/api/events/${EVENT}/seats`);
  assert.equal(seats.body.rows[1].states[4], 'h');

  // The access token lives in memory only.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(holds[0].slice('Bearer '.length)), 'the access token was stored');
  assert.ok(!stored.includes('v1.'), `something token-like was stored: ${stored}`);
  // Without it, the API refuses the same hold.
  const bare = await host.api('POST', `/api/events/${EVENT}/holds`, { seats: ['C-1'] });
  assert.equal(bare.status, 403);
  assert.equal(bare.body.code, 'queue_required');
  assert.deepEqual(errors, []);
  await context.close();
});
