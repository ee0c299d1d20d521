// The seat map page in a real browser (Debian's headless Chromium) against
// the component under real `spin up` and a real Redis. Run with
// scripts/browser-test.sh, or `node --test tests-browser/` once the
// component is built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { Stage, OUTPUT, ROOT, freePort } from './harness.mjs';

const EVENT = 'gala';
const ROWS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((label) => ({ label, seats: 16 }));
const REFRESH_MS = 8000; // the page polls every 3 s: two polls and some slack

const stage = new Stage();
let redis;
let host;
let browser;

before(async () => {
  await stage.start(EVENT, 'Gala night', ROWS);
  ({ redis, host, browser } = stage);
});

after(() => stage.stop());

// ------------------------------------------------------------------ helpers

/** A fresh browser context (its own cookies and sessionStorage: another buyer) and page. */
async function buyer(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...options });
  const page = await context.newPage();
  // Script errors and CSP violations must fail the test; failed API calls
  // (a 409, a 503) are expected and logged by Chromium as "Failed to load resource".
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(m.text());
  });
  return page;
}

async function open(page, query = '', event = EVENT) {
  await page.goto(`${host.url}/events/${event}${query}`);
  await page.locator('#live', { hasText: 'Live' }).waitFor({ timeout: 15000 });
}

const seat = (page, id) => page.locator(`button.seat[data-seat="${id}"]`);

/** Waits until the seat is drawn as `kind` (available, selected, mine, held, booked). */
async function waitKind(page, id, kind, timeout = REFRESH_MS) {
  await page.locator(`button.seat[data-seat="${id}"].s-${kind}`).waitFor({ state: 'attached', timeout });
}

/** The server's state character of one seat, from the JSON API. */
async function serverState(id, event = EVENT) {
  const { body } = await host.api('GET', `/api/events/${event}/seats`);
  const dash = id.lastIndexOf('-');
  const row = body.rows.find((r) => r.label === id.slice(0, dash));
  return row.states[Number(id.slice(dash + 1)) - 1];
}

async function heldCount() {
  return (await host.api('GET', `/api/events/${EVENT}`)).body.held;
}

const countOf = async (page, kind) => Number((await page.locator(`#count-${kind}`).textContent()).replace(/,/g, ''));
const message = (page) => page.locator('#message');

// -------------------------------------------------------------------- tests

test('the landing page opens the seat map of the event typed in', async () => {
  const page = await buyer();
  await page.goto(host.url + '/');
  await page.fill('#event-id', EVENT);
  await page.click('#picker-form button[type=submit]');
  await page.waitForURL(`${host.url}/events/${EVENT}`);
  await page.locator('#title', { hasText: 'Gala night' }).waitFor();
  assert.equal(await page.locator('button.seat').count(), 8 * 16);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the landing page lists the events newest first, each a link to its seat map', async () => {
  await host.createEvent('encore', 'Encore', [{ label: 'A', seats: 5 }]);
  assert.equal((await host.api('POST', '/api/events/encore/holds', { seats: ['A-1'] })).status, 201);
  const page = await buyer();
  await page.goto(host.url + '/');
  const items = page.locator('#events li');
  await items.first().waitFor();
  const names = await page.locator('#events li a').allTextContents();
  assert.deepEqual(names.slice(0, 2), ['Encore', 'Gala night']);
  assert.equal(await items.first().locator('.event-counts').textContent(), '4 of 5 seats available · 1 held · 0 booked');
  await page.click('#events a:text-is("Gala night")');
  await page.waitForURL(`${host.url}/events/${EVENT}`);
  await page.locator('#title', { hasText: 'Gala night' }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('polls ask with If-None-Match: an unchanged map is a 304 that keeps the map, a change still shows', async () => {
  const page = await buyer();
  const polls = [];
  page.on('response', (res) => {
    if (res.url().endsWith(`/api/events/${EVENT}/seats`)) {
      polls.push({ status: res.status(), ifNoneMatch: res.request().headers()['if-none-match'] || '' });
    }
  });
  await open(page);
  const available = await countOf(page, 'available');
  await page.waitForTimeout(7000); // two more polls, nothing changed
  assert.equal(polls[0].status, 200);
  const unchanged = polls.slice(1);
  assert.ok(unchanged.length >= 2, JSON.stringify(polls));
  for (const poll of unchanged) {
    assert.equal(poll.status, 304, JSON.stringify(polls));
    assert.match(poll.ifNoneMatch, /^"s1\./);
  }
  assert.equal(await countOf(page, 'available'), available);
  assert.equal(await page.locator('button.seat').count(), 8 * 16);
  // Someone else holds a seat: the next poll's ETag is stale, the map changes.
  const held = await host.api('POST', `/api/events/${EVENT}/holds`, { seats: ['H-16'] });
  assert.equal(held.status, 201);
  await waitKind(page, 'H-16', 'held');
  assert.equal(polls.at(-1).status, 200);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  // Leave the map as the next tests expect it.
  const release = await host.api('DELETE', `/api/events/${EVENT}/holds/${held.body.holdId}`, undefined, {
    authorization: `Bearer ${held.body.holdToken}`,
  });
  assert.equal(release.status, 204);
});

test('hold two seats, see the countdown, confirm, see them booked; another buyer sees them booked', async () => {
  // Others' activity, so the map shows every state: a hold and a booking made through the API.
  assert.equal((await host.api('POST', `/api/events/${EVENT}/holds`, { seats: ['C-7', 'C-8', 'C-9'] })).status, 201);
  assert.equal((await host.api('POST', `/api/events/${EVENT}/bookings`, { seats: ['E-3', 'E-4', 'E-5', 'E-6'] })).status, 201);

  const page = await buyer({ viewport: { width: 1000, height: 560 } }); // a tight screenshot
  const other = await buyer();
  await open(page);
  await open(other);
  await waitKind(page, 'C-7', 'held');
  await waitKind(page, 'E-3', 'booked');

  await seat(page, 'A-7').click();
  await seat(page, 'A-8').click();
  assert.equal(await seat(page, 'A-7').getAttribute('aria-pressed'), 'true');
  await waitKind(page, 'A-8', 'selected', 1000);

  await page.click('#hold');
  await waitKind(page, 'A-7', 'mine', 5000);
  await waitKind(page, 'A-8', 'mine', 1000);
  assert.match(await message(page).textContent(), /^Held A-7 and A-8\./);
  assert.equal(await countOf(page, 'mine'), 2);

  // The countdown shows the default ten minutes, running down.
  const countdown = page.locator('#countdown');
  await countdown.waitFor();
  const first = await countdown.textContent();
  assert.match(first, /^Your hold on A-7 and A-8 ends in (10:00|9:5\d)\.$/);
  await page.waitForFunction((was) => document.getElementById('countdown').textContent !== was, first, { timeout: 3000 });
  const seconds = (text) => {
    const [, m, s] = text.match(/(\d+):(\d\d)/);
    return Number(m) * 60 + Number(s);
  };
  assert.ok(seconds(await countdown.textContent()) < seconds(first), 'the countdown runs down');

  // The other buyer sees them held (by someone else) after a refresh, without reloading.
  await waitKind(other, 'A-7', 'held');
  assert.equal(await seat(other, 'A-7').getAttribute('aria-disabled'), 'true');

  await page.click('#confirm');
  await waitKind(page, 'A-7', 'booked', 5000);
  await waitKind(page, 'A-8', 'booked', 1000);
  assert.match(await message(page).textContent(), /^Booked A-7 and A-8\. Booking reference [0-9a-f-]{36}\.$/);
  assert.match(await page.locator('#bookings').textContent(), /^A-7 and A-8: booking reference [0-9a-f-]{36}$/);
  assert.equal(await countdown.isHidden(), true);
  assert.equal(await countOf(page, 'booked'), 6);
  assert.equal(await countOf(page, 'held'), 3);
  assert.equal(await countOf(page, 'mine'), 0);
  assert.equal(await serverState('A-7'), 'b');
  assert.equal(await serverState('A-8'), 'b');

  // The screenshot the README shows: the map after booking, with a seat selected.
  await seat(page, 'B-10').click();
  await waitKind(page, 'B-10', 'selected', 1000);
  assert.match(await message(page).textContent(), /^Booked A-7 and A-8\./, 'the booking message stays');
  mkdirSync(OUTPUT, { recursive: true });
  const shot = path.join(OUTPUT, 'seat-map.png');
  await page.screenshot({ path: shot, fullPage: true });
  // The README's copy is refreshed on request only, so a test run leaves
  // the work tree clean: UPDATE_SCREENSHOT=1 scripts/browser-test.sh
  if (process.env.UPDATE_SCREENSHOT === '1') {
    copyFileSync(shot, path.join(ROOT, 'docs', 'seat-map.png'));
  }

  await waitKind(other, 'A-7', 'booked');
  await waitKind(other, 'A-8', 'booked', 1000);
  assert.equal(await countOf(other, 'booked'), 6);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  await page.context().close();
  await other.context().close();
});

test('a hold that expires frees its seats on screen', async () => {
  const page = await buyer();
  await open(page, '?ttl=2');
  await seat(page, 'B-1').click();
  await seat(page, 'B-2').click();
  await page.click('#hold');
  await waitKind(page, 'B-1', 'mine', 5000);
  assert.match(await page.locator('#countdown').textContent(), /ends in 0:0[12]\./);
  assert.equal(await serverState('B-1'), 'h');

  await waitKind(page, 'B-1', 'available', 10000);
  await waitKind(page, 'B-2', 'available', 1000);
  assert.match(await message(page).textContent(), /^Your hold on B-1 and B-2 expired and the seats were released\.$/);
  assert.equal(await page.locator('#countdown').isHidden(), true);
  assert.equal(await serverState('B-1'), 'a');
  // Confirm now explains itself instead of failing silently (the button
  // stays clickable, only marked aria-disabled, so focus is never lost).
  await page.click('#confirm', { force: true });
  assert.equal(await message(page).textContent(), 'Hold some seats first, then confirm them.');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a seat taken meanwhile is refused with a sentence next to the action', async () => {
  const page = await buyer();
  await open(page);
  await seat(page, 'C-1').click();
  await waitKind(page, 'C-1', 'selected', 1000);
  // Someone else holds it between this buyer's click and "Hold".
  assert.equal((await host.api('POST', `/api/events/${EVENT}/holds`, { seats: ['C-1'] })).status, 201);
  await page.click('#hold');
  // Either the hold is refused (409 seats_taken) or a refresh got there first; both say so.
  await page.locator('.actions #message.problem', { hasText: 'C-1' }).waitFor({ timeout: 5000 });
  assert.match(await message(page).textContent(), /^(These seats are held or booked: C-1\.|C-1 was taken by someone else meanwhile\.)$/);
  await waitKind(page, 'C-1', 'held');
  assert.equal(await countOf(page, 'selected'), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the page's own posts carry its origin and pass; a form another site posts books nothing", async () => {
  const page = await buyer();
  const posts = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') posts.push(r);
  });
  await open(page);
  await seat(page, 'H-16').click();
  await page.click('#hold');
  await waitKind(page, 'H-16', 'mine', 5000);
  const headers = await posts[0].allHeaders();
  assert.equal(headers.origin, host.url);
  assert.equal(headers['sec-fetch-site'], 'same-origin');
  await page.click('#release');
  await waitKind(page, 'H-16', 'available', 5000);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // Another site (localhost is not 127.0.0.1's site) whose page posts a
  // form to the API as its visitor's browser: no preflight, the browser's
  // own Origin and Sec-Fetch-Site: cross-site.
  const target = `${host.url}/api/book/csrf-1`;
  const evil = createServer((_, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form method="post" action="${target}"><input name="seat" value="csrf-1"></form>` +
      '<script>document.forms[0].submit()</script>');
  });
  const port = await freePort();
  await new Promise((resolve) => evil.listen(port, '127.0.0.1', resolve));
  try {
    const visitor = await buyer();
    const answered = visitor.waitForResponse((r) => r.url() === target);
    await visitor.goto(`http://localhost:${port}/`);
    const response = await answered;
    assert.equal(response.status(), 403);
    assert.equal((await response.json()).code, 'cross_site_request');
    const sent = await response.request().allHeaders();
    assert.equal(sent.origin, `http://localhost:${port}`);
    assert.equal(sent['sec-fetch-site'], 'cross-site');
    await visitor.context().close();
  } finally {
    evil.close();
  }
  // Nothing was booked: the seat is still free for a request from a server.
  assert.equal((await host.api('POST', '/api/book/csrf-1')).status, 201);
});

test('"Best 4 together" holds four adjacent seats once, even when the answer is lost or the button double-clicked', async () => {
  const page = await buyer();
  await open(page);
  const before = await heldCount();
  // The first answer is lost after the server acted, as on a dropped connection:
  // the page retries with the same Idempotency-Key and gets the same hold back.
  let lost = 0;
  await page.route('**/api/events/gala/holds', async (route) => {
    if (lost++ === 0) {
      await route.fetch();
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await page.dblclick('#best');
  await page.locator('button.seat.s-mine').nth(3).waitFor({ state: 'attached', timeout: 10000 });
  const mine = await page.locator('button.seat.s-mine').evaluateAll((els) => els.map((e) => e.dataset.seat));
  assert.equal(mine.length, 4);
  assert.equal(lost, 2, 'one lost answer, one retry');
  assert.equal(await heldCount(), before + 4, 'the retry replayed the hold instead of holding 4 more');
  const row = mine[0].split('-')[0];
  const numbers = mine.map((id) => Number(id.split('-')[1])).sort((a, b) => a - b);
  assert.ok(mine.every((id) => id.startsWith(row + '-')), 'one row');
  assert.deepEqual(numbers, [0, 1, 2, 3].map((k) => numbers[0] + k), 'side by side');

  await page.click('#release');
  for (const id of mine) await waitKind(page, id, 'available', 5000);
  assert.match(await message(page).textContent(), /^Released /);
  assert.equal(await heldCount(), before);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('seats can be picked with the keyboard', async () => {
  const page = await buyer();
  await open(page);
  await page.locator('#clear').focus();
  await page.keyboard.press('Tab'); // into the map: one seat is in the tab order
  assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), 'A-1');
  for (const key of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowRight']) await page.keyboard.press(key);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), 'D-2');
  await page.keyboard.press('Space');
  assert.equal(await seat(page, 'D-2').getAttribute('aria-pressed'), 'true');
  assert.equal(await seat(page, 'D-2').getAttribute('aria-label'), 'D-2, selected');
  await page.keyboard.press('Enter');
  assert.equal(await seat(page, 'D-2').getAttribute('aria-pressed'), 'false');
  await page.context().close();
});

test('the page fits a phone-width screen', async () => {
  const page = await buyer({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await open(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  const top = async (id) => (await seat(page, id).boundingBox()).y;
  assert.ok((await top('A-16')) > (await top('A-1')), 'a long row wraps');
  await page.screenshot({ path: path.join(OUTPUT, 'seat-map-phone.png'), fullPage: true });
  await page.context().close();
});

test('a 5,000-seat event stays responsive', async (t) => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ label: `R${i + 1}`, seats: 50 }));
  await host.createEvent('arena', 'Arena', rows);
  const page = await buyer();
  // Record main-thread tasks over 50 ms (the browser's "long tasks").
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const started = Date.now();
  await open(page, '', 'arena');
  await page.locator('button.seat[data-seat="R100-50"]').waitFor({ state: 'attached' });
  const firstDraw = Date.now() - started;
  t.diagnostic(`5,000 seats drawn ${firstDraw} ms after navigation`);
  assert.ok(firstDraw < 15000, `first draw took ${firstDraw} ms`);

  const loading = await page.evaluate(() => window.longTasks);
  t.diagnostic(`long tasks while loading: ${loading.map(Math.round).join(', ') || 'none'} ms`);

  // Steady state: polls that change one seat must not block the page.
  await page.evaluate(() => (window.longTasks = []));
  assert.equal((await host.api('POST', '/api/events/arena/holds', { seats: ['R50-25'] })).status, 201);
  await waitKind(page, 'R50-25', 'held');
  await page.waitForTimeout(3500); // one more poll with nothing new
  const longest = Math.max(0, ...(await page.evaluate(() => window.longTasks)));
  t.diagnostic(`longest main-thread task while polling: ${Math.round(longest)} ms`);
  assert.ok(longest < 250, `a poll blocked the page for ${longest} ms`);

  const clickStarted = Date.now();
  await seat(page, 'R1-1').click();
  await waitKind(page, 'R1-1', 'selected', 1000);
  t.diagnostic(`a click selected a seat in ${Date.now() - clickStarted} ms`);
  assert.equal(await countOf(page, 'available'), 4998);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// Last: it empties Redis.
test('a Redis outage is said plainly, and the page recovers when Redis is back', async () => {
  const page = await buyer();
  await open(page);
  await redis.stop();
  await page.locator('#live.problem', { hasText: 'The booking service is unavailable right now; retrying…' }).waitFor({ timeout: REFRESH_MS });
  await page.click('#best');
  await page.locator('#message', { hasText: 'unavailable right now; retrying' }).waitFor({ timeout: 3000 });
  await page.locator('#message', { hasText: 'still unavailable' }).waitFor({ timeout: 15000 });
  assert.equal(await page.locator('button.seat.s-mine').count(), 0);

  // Redis comes back empty (no persistence in the test): the page says the event is gone, then shows it again.
  await redis.start();
  await page.locator('#live.problem', { hasText: `There is no event ${EVENT}.` }).waitFor({ timeout: REFRESH_MS });
  await host.createEvent(EVENT, 'Gala night', ROWS);
  await page.locator('#live:not(.problem)', { hasText: 'Live' }).waitFor({ timeout: REFRESH_MS });
  await waitKind(page, 'A-7', 'available');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
