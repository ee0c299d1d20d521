// The seat map page. It is a plain client of the JSON API:
//   GET  /api/events                           the landing page's list of events
//   GET  /api/events/{id}                      the event's name
//   GET  /api/events/{id}/seats                every seat's state (polled with
//                                              If-None-Match: a 304 keeps the map)
//   POST /api/events/{id}/holds                hold selected or best-available seats
//   POST /api/events/{id}/holds/{hold}/confirm book the held seats
//   DELETE /api/events/{id}/holds/{hold}       let them go
//   POST /api/events/{id}/queue                join the waiting room (queued events)
//   GET  /api/events/{id}/queue/{ticket}       wait for the turn and its access token
// The hold token lives in memory and sessionStorage (so a reload keeps the
// hold), never in the URL. A waiting room's ticket and access tokens live in
// memory only. Every POST carries an Idempotency-Key tied to the
// user's intent, so a retried or double-clicked action never acts twice.
'use strict';

const POLL_MS = 3000;
const DEFAULT_TTL_SECONDS = 600;
const MAX_TTL_SECONDS = 3600;
const MAX_SEATS = 100; // the API's limit per hold
const BEST_COUNT = 4;
const LIST_PAGE = 20; // events per page on the landing page
const ACTION_ATTEMPTS = 4; // an action is tried this many times while the service is unavailable
const UNAVAILABLE = 'The booking service is unavailable right now; retrying…';
const UNAVAILABLE_LIST = 'The list of events is unavailable right now; reload in a moment.';
const UNAVAILABLE_GAVE_UP = 'The booking service is still unavailable. Nothing was changed; try again in a moment.';

// What each seat shows, from the server's character and what this page knows.
const LABELS = {
  available: 'available',
  selected: 'selected',
  mine: 'held by you',
  held: 'held by someone else',
  booked: 'booked',
};

const $ = (id) => document.getElementById(id);

const state = {
  eventId: '',
  base: '', // /api/events/{id}
  ttl: DEFAULT_TTL_SECONDS,
  named: false, // the event's name has been shown
  // One entry per row: label, the server's states string (possibly updated
  // locally right after an action), the kind each seat is drawn as, buttons.
  rows: [],
  selected: new Set(), // seat ids picked but not held yet
  hold: null, // { holdId, holdToken, seats, deadline } while this page holds seats
  busy: false, // an action is in flight
  keys: new Map(), // intent -> Idempotency-Key, until the intent gets an answer
  generation: 0, // bumped by every local change; older poll answers are stale
  etag: '', // the ETag of the map drawn, while no local change has touched it
  focus: { row: 0, index: 0 }, // the one seat in the tab order (roving tabindex)
  pollTimer: 0,
  countdownTimer: 0,
  queued: false, // waiting in the event's waiting room: the map is not shown
  access: null, // { token, expiresAt } once the event's waiting room let this page in
};

function start() {
  const match = location.pathname.match(/^\/events\/([^/]+)\/?$/);
  if (!match) {
    showPicker();
    return;
  }
  state.eventId = safeDecode(match[1]);
  state.base = '/api/events/' + encodeURIComponent(state.eventId);
  $('title').textContent = 'Event ' + state.eventId;
  $('event').hidden = false;
  readTtl();
  wireActions();
  wireMap();
  restoreHold();
  updateButtons();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !state.queued) poll(); // catch up at once when the tab comes back
  });
  enter();
}

// ---------------------------------------------------------------- landing page

function showPicker() {
  $('picker').hidden = false;
  $('picker-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('event-id').value.trim();
    if (id) location.assign('/events/' + encodeURIComponent(id));
  });
  $('more-events').addEventListener('click', () => loadEvents($('more-events').dataset.cursor));
  loadEvents('');
}

// Appends a page of events (newest first) to the landing page's list, each
// a link to its seat map; `cursor` is the previous page's `next`.
async function loadEvents(cursor) {
  const more = $('more-events');
  more.hidden = true;
  let path = '/api/events?limit=' + LIST_PAGE;
  if (cursor) path += '&cursor=' + encodeURIComponent(cursor);
  const result = await api('GET', path);
  const status = $('events-status');
  if (!result.ok || !result.data) {
    status.textContent = result.unavailable ? UNAVAILABLE_LIST : sentence(result);
    status.classList.add('problem');
    if (cursor) more.hidden = false;
    return;
  }
  status.classList.remove('problem');
  const list = $('events');
  for (const event of result.data.events) list.append(eventItem(event));
  status.textContent = list.children.length ? '' : 'No events yet.';
  more.dataset.cursor = result.data.next || '';
  more.hidden = !result.data.next;
}

// One event of the list: its name as a link, then its counts.
function eventItem(event) {
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = event.links.page;
  link.textContent = event.name;
  const counts = document.createElement('span');
  counts.className = 'event-counts';
  const n = (x) => x.toLocaleString('en');
  counts.textContent = `${n(event.available)} of ${n(event.seatCount)} seats available · ${n(event.held)} held · ${n(event.booked)} booked`;
  item.append(link, ' ', counts);
  return item;
}

// ---------------------------------------------------------------- the API

// One request. Returns { ok, status, data, etag }, { notModified: true, etag }
// for a 304 (the request named an ETag in ifNoneMatch and nothing changed),
// or { unavailable: true } when the service cannot answer (network failure,
// timeout, 502/503/504). The browser cache is bypassed: a conditional request
// made here gets the 304 itself.
async function api(method, path, { body, token, idempotencyKey, ifNoneMatch } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = 'Bearer ' + token;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  if (ifNoneMatch) headers['if-none-match'] = ifNoneMatch;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(10000),
    });
  } catch {
    return { unavailable: true };
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return { unavailable: true, status: res.status };
  }
  const etag = res.headers.get('etag') || '';
  if (res.status === 304) return { notModified: true, status: 304, etag };
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  return { ok: res.ok, status: res.status, data, etag };
}

// An action's request, retried (with the same Idempotency-Key, so safely)
// while the service is unavailable.
async function act(method, path, options) {
  for (let attempt = 1; ; attempt++) {
    const result = await api(method, path, options);
    if (!result.unavailable || attempt >= ACTION_ATTEMPTS) return result;
    say(UNAVAILABLE, 'problem');
    await sleep(1000 * attempt);
  }
}

// The Idempotency-Key for an intent ("hold for 600 s"): the same
// until that intent gets a definite answer, so a retry replays rather than
// acting twice.
function keyFor(intent) {
  if (!state.keys.has(intent)) state.keys.set(intent, uuid());
  return state.keys.get(intent);
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; plain http on another host has only getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// A problem answer as one plain sentence: its `detail`, capitalised.
function sentence(result) {
  const detail = result.data && typeof result.data.detail === 'string' ? result.data.detail.trim() : '';
  if (!detail) return `The request failed (HTTP ${result.status}).`;
  const text = detail[0].toUpperCase() + detail.slice(1);
  return /[.!?]$/.test(text) ? text : text + '.';
}

// ---------------------------------------------------------------- polling

function poll() {
  clearTimeout(state.pollTimer);
  const next = () => {
    state.pollTimer = setTimeout(poll, POLL_MS);
  };
  if (document.hidden) return next(); // nobody is looking: don't spend requests
  refresh().then(next, next);
}

// Fetches the seat map, at most one request at a time; a refresh asked for
// while one is in flight runs once more afterwards.
let inFlight = null;
let again = false;
function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    do {
      again = false;
      await fetchSeats();
    } while (again);
  })().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function fetchSeats() {
  const generation = state.generation;
  const result = await api('GET', state.base + '/seats', { ifNoneMatch: state.etag });
  if (result.unavailable) {
    setLive(UNAVAILABLE, true);
    return;
  }
  if (!result.ok && !result.notModified) {
    setLive(sentence(result), true);
    return;
  }
  if (state.busy) return; // an action is changing seats; it refreshes when done
  if (generation !== state.generation) {
    again = true; // asked before our own last change: its picture is stale
    return;
  }
  setLive(`Live: the map refreshes every ${POLL_MS / 1000} seconds.`, false);
  if (result.notModified) return; // the map drawn is still the server's
  apply(result.data.rows);
  state.etag = result.etag;
  if (!state.named) loadName();
}

async function loadName() {
  const result = await api('GET', state.base);
  if (!result.ok || !result.data) return;
  state.named = true;
  $('title').textContent = result.data.name;
  document.title = result.data.name + ' · Seat map';
}

function setLive(text, problem) {
  const live = $('live');
  if (live.textContent !== text) live.textContent = text; // no repeated announcements
  live.classList.toggle('problem', problem);
}

// ---------------------------------------------------------------- drawing

// Takes a fresh seat map from the server and updates only what changed.
function apply(rows) {
  if (!sameShape(rows)) build(rows);
  const changed = [];
  rows.forEach((row, i) => {
    if (state.rows[i].states !== row.states) {
      state.rows[i].states = row.states;
      changed.push(i);
    }
  });
  dropTakenSelections();
  paint(changed);
}

function sameShape(rows) {
  return (
    rows.length === state.rows.length &&
    rows.every((r, i) => r.label === state.rows[i].label && r.states.length === state.rows[i].buttons.length)
  );
}

// Creates one button per seat, once (the map of an event never changes shape).
function build(rows) {
  const map = $('map');
  const fragment = document.createDocumentFragment();
  state.rows = rows.map((row, r) => {
    const rowEl = document.createElement('div');
    rowEl.className = 'row';
    rowEl.setAttribute('role', 'group');
    rowEl.setAttribute('aria-label', 'Row ' + row.label);
    const label = document.createElement('span');
    label.className = 'row-label';
    label.setAttribute('aria-hidden', 'true');
    label.textContent = row.label;
    const seats = document.createElement('div');
    seats.className = 'seats';
    const buttons = [];
    for (let i = 0; i < row.states.length; i++) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'seat';
      button.tabIndex = -1;
      button.dataset.row = String(r);
      button.dataset.index = String(i);
      button.dataset.seat = row.label + '-' + (i + 1);
      button.textContent = String(i + 1);
      buttons.push(button);
      seats.append(button); // one by one: a 100,000-seat row is too long for a spread
    }
    rowEl.append(label, seats);
    fragment.append(rowEl);
    return { label: row.label, states: '', kinds: new Array(buttons.length).fill(''), buttons };
  });
  map.replaceChildren(fragment);
  state.focus = { row: 0, index: 0 };
  const first = seatButton(0, 0);
  if (first) first.tabIndex = 0;
}

function seatButton(row, index) {
  const r = state.rows[row];
  return r ? r.buttons[index] : undefined;
}

// The kind a seat is drawn as.
function kindOf(row, index) {
  const c = row.states[index];
  if (c === 'b') return 'booked';
  const id = row.label + '-' + (index + 1);
  if (c === 'h') return state.hold && state.hold.seats.includes(id) ? 'mine' : 'held';
  return state.selected.has(id) ? 'selected' : 'available';
}

// Redraws the given rows (all when none are given), touching only seats
// whose kind changed, then the counts and buttons.
function paint(rowIndexes) {
  const indexes = rowIndexes || state.rows.map((_, i) => i);
  for (const r of indexes) {
    const row = state.rows[r];
    for (let i = 0; i < row.buttons.length; i++) {
      const kind = kindOf(row, i);
      if (row.kinds[i] === kind) continue;
      row.kinds[i] = kind;
      const button = row.buttons[i];
      button.className = 'seat s-' + kind;
      button.setAttribute('aria-label', `${button.dataset.seat}, ${LABELS[kind]}`);
      button.setAttribute('aria-pressed', String(kind === 'selected'));
      button.setAttribute('aria-disabled', String(kind === 'held' || kind === 'booked'));
    }
  }
  paintCounts();
  updateButtons();
}

function paintCounts() {
  const counts = { available: 0, selected: 0, mine: 0, held: 0, booked: 0 };
  for (const row of state.rows) {
    for (const kind of row.kinds) if (kind in counts) counts[kind] += 1;
  }
  for (const [kind, n] of Object.entries(counts)) $('count-' + kind).textContent = n.toLocaleString('en');
}

// Marks seats locally with what an action just made them on the server, so
// the map changes at once rather than at the next poll.
function markSeats(seatIds, c) {
  const touched = new Set();
  for (const id of seatIds) {
    const dash = id.lastIndexOf('-');
    const r = state.rows.findIndex((row) => row.label === id.slice(0, dash));
    const i = Number(id.slice(dash + 1)) - 1;
    if (r < 0 || !(i >= 0 && i < state.rows[r].buttons.length)) continue;
    const row = state.rows[r];
    row.states = row.states.slice(0, i) + c + row.states.slice(i + 1);
    touched.add(r);
  }
  state.generation += 1;
  state.etag = ''; // the map drawn is no longer the one the ETag names
  return [...touched];
}

// Seats someone else took while they were selected here leave the selection, with a word why.
function dropTakenSelections() {
  const taken = [];
  for (const id of state.selected) {
    const dash = id.lastIndexOf('-');
    const row = state.rows.find((r) => r.label === id.slice(0, dash));
    if (!row || row.states[Number(id.slice(dash + 1)) - 1] !== 'a') taken.push(id);
  }
  if (!taken.length) return;
  for (const id of taken) state.selected.delete(id);
  say(`${list(taken)} ${taken.length === 1 ? 'was' : 'were'} taken by someone else meanwhile.`, 'problem');
}

// ---------------------------------------------------------------- seats: mouse and keyboard

function wireMap() {
  const map = $('map');
  map.addEventListener('click', (e) => {
    const button = e.target.closest('button.seat');
    if (button) toggleSeat(button);
  });
  map.addEventListener('keydown', (e) => {
    const button = e.target.closest('button.seat');
    if (!button) return;
    let r = Number(button.dataset.row);
    let i = Number(button.dataset.index);
    switch (e.key) {
      case 'ArrowLeft': i -= 1; break;
      case 'ArrowRight': i += 1; break;
      case 'ArrowUp': r -= 1; break;
      case 'ArrowDown': r += 1; break;
      case 'Home': i = 0; break;
      case 'End': i = Infinity; break;
      default: return; // Enter and Space click the button natively
    }
    e.preventDefault();
    r = Math.max(0, Math.min(state.rows.length - 1, r));
    i = Math.max(0, Math.min(state.rows[r].buttons.length - 1, i));
    moveFocus(r, i);
  });
}

function moveFocus(r, i) {
  const old = seatButton(state.focus.row, state.focus.index);
  if (old) old.tabIndex = -1;
  state.focus = { row: r, index: i };
  const button = seatButton(r, i);
  button.tabIndex = 0;
  button.focus();
}

function toggleSeat(button) {
  const r = Number(button.dataset.row);
  const i = Number(button.dataset.index);
  const id = button.dataset.seat;
  const kind = state.rows[r].kinds[i];
  moveFocus(r, i);
  if (kind === 'booked' || kind === 'held') return say(`${id} is ${LABELS[kind]}.`, 'info');
  if (kind === 'mine') return say(`${id} is held by you: confirm or release your hold.`, 'info');
  if (state.hold) return say('Confirm or release the seats you hold before picking others.', 'info');
  if (state.selected.has(id)) {
    state.selected.delete(id);
  } else if (state.selected.size >= MAX_SEATS) {
    return say(`You can hold at most ${MAX_SEATS} seats at a time.`, 'problem');
  } else {
    state.selected.add(id);
  }
  // A hint or problem is stale once the buyer moves on; a success (a booking reference) stays.
  if (!$('message').classList.contains('ok')) say('', 'info');
  paint([r]);
}

// ---------------------------------------------------------------- actions

function wireActions() {
  $('hold').addEventListener('click', holdSelected);
  $('best').addEventListener('click', holdBest);
  $('confirm').addEventListener('click', confirmHold);
  $('release').addEventListener('click', releaseHold);
  $('clear').addEventListener('click', () => {
    if (state.busy) return;
    state.selected.clear();
    say('', 'info');
    paint();
  });
}

// Buttons stay focusable when they can't act (aria-disabled, not disabled),
// so keyboard focus is never lost and a click explains itself.
function updateButtons() {
  const can = {
    hold: !state.busy && !state.hold && state.selected.size > 0,
    best: !state.busy && !state.hold,
    confirm: !state.busy && !!state.hold,
    release: !state.busy && !!state.hold,
    clear: !state.busy && state.selected.size > 0,
  };
  for (const [id, enabled] of Object.entries(can)) $(id).setAttribute('aria-disabled', String(!enabled));
  $('hold').textContent = state.selected.size > 1 ? `Hold ${state.selected.size} seats` : 'Hold';
  document.querySelector('.actions').setAttribute('aria-busy', String(state.busy));
}

function setBusy(busy, text) {
  state.busy = busy;
  if (text) say(text, 'info');
  updateButtons();
}

async function holdSelected() {
  if (state.busy) return; // a double click: the first click's request is on its way
  if (state.hold) return say('You already hold seats: confirm or release them first.', 'info');
  if (!state.selected.size) return say('Select one or more available seats first, or use “Best 4 together”.', 'info');
  const seats = [...state.selected].sort();
  await createHold({ seats, ttlSeconds: state.ttl }, `hold ${seats.join(',')} for ${state.ttl}`);
}

async function holdBest() {
  if (state.busy) return;
  if (state.hold) return say('You already hold seats: confirm or release them first.', 'info');
  const body = { bestAvailable: { count: BEST_COUNT, adjacent: true }, ttlSeconds: state.ttl };
  await createHold(body, `best ${BEST_COUNT} for ${state.ttl}`);
}

async function createHold(body, intent) {
  setBusy(true, 'Holding…');
  const token = state.access ? state.access.token : undefined;
  const result = await act('POST', state.base + '/holds', { body, token, idempotencyKey: keyFor(intent) });
  setBusy(false);
  if (result.unavailable) return say(UNAVAILABLE_GAVE_UP, 'problem'); // the key is kept: a retry replays
  state.keys.delete(intent);
  if (result.status === 403 && result.data && result.data.code === 'queue_required') return requeue();
  if (result.status !== 201) {
    // Seats taken meanwhile leave the selection now, so the next refresh
    // doesn't report them a second time.
    const taken = result.data && Array.isArray(result.data.seats) ? result.data.seats : [];
    for (const id of taken) state.selected.delete(id);
    paint();
    say(sentence(result), 'problem');
    refresh();
    return;
  }
  const hold = result.data;
  // The earlier of the server's expiry and our own clock's reading of the
  // TTL: a skewed clock never shows time that isn't there.
  const deadline = Math.min(Date.parse(hold.expiresAt), Date.now() + hold.ttlSeconds * 1000);
  state.hold = { holdId: hold.holdId, holdToken: hold.holdToken, seats: hold.seats, deadline };
  state.selected.clear();
  saveHold();
  markSeats(hold.seats, 'h');
  paint(); // all rows: the cleared selection may span several
  startCountdown();
  say(`Held ${list(hold.seats)}. Confirm before the time runs out.`, 'ok');
  refresh();
}

async function confirmHold() {
  if (state.busy) return;
  const hold = state.hold;
  if (!hold) return say('Hold some seats first, then confirm them.', 'info');
  setBusy(true, 'Booking…');
  const intent = 'confirm ' + hold.holdId;
  const result = await act('POST', `${state.base}/holds/${hold.holdId}/confirm`, {
    token: hold.holdToken,
    idempotencyKey: keyFor(intent),
  });
  setBusy(false);
  if (result.unavailable) return say(UNAVAILABLE_GAVE_UP, 'problem');
  state.keys.delete(intent);
  if (result.status === 201) {
    endHold();
    markSeats(result.data.seats, 'b');
    paint();
    say(`Booked ${list(result.data.seats)}. Booking reference ${result.data.bookingId}.`, 'ok');
    addBooking(result.data.seats, result.data.bookingId);
  } else {
    // Expired, released, already confirmed or not ours: either way this hold is over.
    if ([401, 403, 404, 409, 410].includes(result.status)) endHold();
    paint();
    say(sentence(result), 'problem');
  }
  refresh();
}

async function releaseHold() {
  if (state.busy) return;
  const hold = state.hold;
  if (!hold) return say('You hold no seats to release.', 'info');
  setBusy(true, 'Releasing…');
  const result = await act('DELETE', `${state.base}/holds/${hold.holdId}`, { token: hold.holdToken });
  setBusy(false);
  if (result.unavailable) return say(UNAVAILABLE_GAVE_UP, 'problem');
  if (result.status === 204) {
    endHold();
    markSeats(hold.seats, 'a');
    paint();
    say(`Released ${list(hold.seats)}.`, 'ok');
  } else {
    if ([401, 403, 404, 409, 410].includes(result.status)) endHold();
    paint();
    say(sentence(result), 'problem');
  }
  refresh();
}

// This tab's bookings stay listed under the actions, whatever messages come later.
function addBooking(seats, bookingId) {
  const item = document.createElement('li');
  item.textContent = `${list(seats)}: booking reference ${bookingId}`;
  $('bookings').append(item);
  $('bookings').hidden = false;
}

// ---------------------------------------------------------------- the waiting room

// Opens the seat map, first queueing when the event has a waiting room.
async function enter() {
  const event = await api('GET', state.base);
  const room = event.ok && event.data ? event.data.waitingRoom : null;
  if (room) {
    $('title').textContent = event.data.name;
    await waitForTurn();
  }
  poll();
}

// Joins the waiting room and polls the ticket as its Retry-After says until
// the turn comes; then keeps the access token (in memory only) for holds.
async function waitForTurn() {
  setQueued(true);
  for (;;) {
    showPlace('Joining the waiting room…');
    const joined = await act('POST', state.base + '/queue', { idempotencyKey: keyFor('join queue') });
    if (joined.unavailable) {
      showPlace(UNAVAILABLE);
      await sleep(3000);
      continue;
    }
    state.keys.delete('join queue');
    if (joined.status !== 201) {
      // No waiting room after all (or no such event): the map says what is what.
      setQueued(false);
      return;
    }
    const admitted = await pollTicket(joined.data);
    if (admitted) {
      state.access = { token: admitted.accessToken, expiresAt: Date.parse(admitted.accessExpiresAt) };
      setQueued(false);
      say(`It's your turn: choose your seats by ${clock(state.access.expiresAt)}.`, 'ok');
      return;
    }
    // The admission ran out before this page saw it: join again.
  }
}

// Polls one ticket; resolves to its admitted status, or null when its
// admission is over and the buyer must join again.
async function pollTicket(ticket) {
  const path = `${state.base}/queue/${encodeURIComponent(ticket.ticketId)}`;
  for (;;) {
    let res;
    let data = null;
    try {
      res = await fetch(path, {
        headers: { accept: 'application/json', authorization: 'Bearer ' + ticket.ticketToken },
        cache: 'no-store',
        signal: AbortSignal.timeout(10000),
      });
      data = await res.json();
    } catch {
      res = null;
    }
    if (res && res.status === 200 && data && data.admitted) return data;
    if (res && res.status === 410) return null;
    if (res && res.status === 200 && data) {
      showPlace(placeText(data));
    } else {
      showPlace(res && data ? sentence({ status: res.status, data }) : UNAVAILABLE);
    }
    const retry = Number(res && res.headers.get('retry-after'));
    await sleep((retry >= 1 && retry <= 60 ? retry : 3) * 1000);
  }
}

function placeText(status) {
  const ahead = status.ahead === 0 ? 'You are next' : `${status.ahead.toLocaleString('en')} ahead of you`;
  const wait = status.estimatedWaitSeconds;
  const minutes = Math.floor(wait / 60);
  const time = minutes > 0 ? `${minutes} min ${wait % 60} s` : `${wait} s`;
  return `${ahead}: your turn comes in about ${time} (place ${status.position.toLocaleString('en')} in line).`;
}

// The admission ran out (or never came through): back to the queue.
async function requeue() {
  state.access = null;
  say('Your time to choose seats is over: you are back in the waiting room.', 'problem');
  await waitForTurn();
  refresh();
}

function setQueued(queued) {
  state.queued = queued;
  $('event').classList.toggle('queued', queued);
  $('queue').hidden = !queued;
  if (queued) setLive('Waiting room', false);
}

function showPlace(text) {
  const place = $('queue-place');
  if (place.textContent !== text) place.textContent = text;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// ---------------------------------------------------------------- the hold and its countdown

function startCountdown() {
  clearInterval(state.countdownTimer);
  tick();
  state.countdownTimer = setInterval(tick, 250);
}

function tick() {
  const el = $('countdown');
  if (!state.hold) {
    el.hidden = true;
    return;
  }
  const left = Math.max(0, Math.ceil((state.hold.deadline - Date.now()) / 1000));
  // While a confirm or release is on its way, its answer decides what happened.
  if (left === 0 && !state.busy) {
    expireHold();
    return;
  }
  const text = `Your hold on ${list(state.hold.seats)} ends in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.`;
  if (el.textContent !== text) el.textContent = text;
  el.hidden = false;
}

// Redis frees the seats by itself when the hold's TTL ends; say so and
// show them free (the next refresh shows whoever took them since).
function expireHold() {
  const seats = state.hold.seats;
  endHold();
  markSeats(seats, 'a');
  paint();
  say(`Your hold on ${list(seats)} expired and the seats were released.`, 'problem');
  setTimeout(refresh, 500); // give Redis's expiry a moment to land
}

function endHold() {
  state.hold = null;
  clearInterval(state.countdownTimer);
  $('countdown').hidden = true;
  saveHold();
}

// sessionStorage (this tab only), so a reload keeps the hold and its token.
function holdKey() {
  return 'seat-hold:' + state.eventId;
}

function saveHold() {
  try {
    if (state.hold) sessionStorage.setItem(holdKey(), JSON.stringify(state.hold));
    else sessionStorage.removeItem(holdKey());
  } catch {
    // Storage disabled: the hold just won't survive a reload.
  }
}

function restoreHold() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(holdKey()) || 'null');
    if (saved && saved.deadline > Date.now()) {
      state.hold = saved;
      startCountdown();
    } else {
      sessionStorage.removeItem(holdKey());
    }
  } catch {
    state.hold = null;
  }
}

// ---------------------------------------------------------------- small helpers

// `?ttl=60` holds for 60 seconds instead of the default ten minutes.
function readTtl() {
  const raw = new URLSearchParams(location.search).get('ttl');
  if (raw === null) return;
  const ttl = Number(raw);
  if (Number.isInteger(ttl) && ttl >= 1 && ttl <= MAX_TTL_SECONDS) {
    state.ttl = ttl;
  } else {
    say(`The ttl must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}; holding for ${DEFAULT_TTL_SECONDS} seconds.`, 'problem');
  }
}

// The message next to the actions: `problem` for errors, `ok` for success, `info` otherwise.
function say(text, kind) {
  const el = $('message');
  el.textContent = text;
  el.className = 'message ' + kind;
}

function list(seats) {
  if (seats.length <= 1) return seats.join('');
  return seats.slice(0, -1).join(', ') + ' and ' + seats[seats.length - 1];
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Last, so every top-level declaration above is initialised first.
start();
