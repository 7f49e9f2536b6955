// Drives Debian's Chromium (/usr/bin/chromium) through playwright-core for the meet-sim
// browser tests (meet-sim/tests/browser_support.rs). Run it where only `lo` exists: the
// flags let WebRTC use 127.0.0.1 host candidates (shared/docs/test-peers.md §4).
//
//   node driver.mjs '<spec>'      (or the spec on stdin)
//
// spec: {"pages": [{"url": "...", "startAfterMs"?: 0, "pollUntil"?: "...", "actions"?: [...]}],
//        "durationMs": 10000, "pollMs"?: 1000, "pollUntil"?: "<JS expression over tcn and stats>"}
// action: {"atMs"?: 0, "when"?: "<JS expression over tcn and stats>", "eval": "<JS statements>"},
//         run once in the page, at the first check (every `pollMs`, default 250 ms) that is
//         at least `atMs` after the start and finds `when` true; e.g. "eval": "tcn.leave()".
//
// One browser process; each page in its own context (its own fake devices, no shared
// state). While running it prints a snapshot line every `pollMs` (when given):
//   {"poll": n, "elapsedMs": ms, "pages": [<page>...]}
// and, at the end, always exactly one final line:
//   {"done": true, "elapsedMs": ms, "browserVersion": "...", "pages": [<page>...]}
// where <page> = {url, opened, ready, untilMet, tcn: {participantId, traceId, sessionState,
// disconnectReason, error, offer, answer, camera, messages}, stats: <await tcn.stats()>,
// actions: [{eval, ranAtMs}], console: [the page's console errors and warnings],
// pageErrors: [uncaught exceptions]}.
// It ends after `durationMs`, or earlier once `pollUntil` (a page's own, or the spec's) is
// true on every page (checked every `pollMs`, default 250 ms). In it, `tcn` is the page's
// window.tcn and `stats` the result of tcn.stats().
//
// With "fakeMeet": {"uploadIntervalSeconds"?: 1}, the join calls (`POST /m/{code}:join`,
// `connectActiveConference`) never reach the server: a browser peer in a page of its own
// (fake-meet.js) answers them, and each <page> gains `fakeMeet: {requests}`, the requests
// that peer received from it.
//
// A failed launch, navigation or action, or an uncaught page exception, exits non-zero with
// the error on stderr (after the final line, when there is one).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream=fps=30', // the fake camera's default is 20 fps
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

const spec = JSON.parse(process.argv[2] ?? readFileSync(0, 'utf8'));
const durationMs = spec.durationMs ?? 10000;
const pollMs = spec.pollMs ?? null;
const started = Date.now();
const elapsed = () => Date.now() - started;
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// Snapshot of one page, taken inside it. `until` (the pollUntil expression as a function of
// tcn and stats, or null) sees the same fields as the snapshot.
async function snapshotInPage(until) {
  const t = window.tcn;
  if (!t) return { ready: false, untilMet: false };
  const stats = await t.stats();
  const untilMet = until ? Boolean(until(t, stats)) : false;
  const fields = {
    participantId: t.participantId,
    traceId: t.traceId,
    sessionState: t.sessionState,
    disconnectReason: t.disconnectReason,
    error: t.error,
    offer: t.offer,
    answer: t.answer,
    camera: t.camera,
    messages: t.messages,
  };
  return { ready: true, untilMet, tcn: fields, stats };
}

// The call above as source text for one page: evaluating a string is not subject to the
// pages' CSP (which forbids eval), so pollUntil can be any expression.
const snapshotExpr = until => `(${snapshotInPage})(${until ? `(tcn, stats) => (${until})` : 'null'})`;

const errors = [];
// An action as page source text: resolves to whether it ran (see the spec above).
const actionExpr = a => `(async () => {
  const tcn = window.tcn;
  if (!tcn?.request) return false;
  const stats = await tcn.stats();
  if (!(${a.when ?? 'true'})) return false;
  await (async () => { ${a.eval} })();
  return true;
})()`;

const pages = spec.pages.map(p => ({
  url: p.url,
  startAfterMs: p.startAfterMs ?? 0,
  snapshot: snapshotExpr(p.pollUntil ?? spec.pollUntil),
  actions: (p.actions ?? []).map(a => ({ ...a, source: actionExpr(a), ranAtMs: null })),
  page: null,
  console: [],
  pageErrors: [],
}));

// The fake Meet peer's page (spec.fakeMeet), opened before the others.
let fakeMeet = null;
const JOIN_CALL = /\/(m\/[^/]+:join|v2beta\/spaces\/[^/]+:connectActiveConference)$/;

async function openFakeMeet(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Served by the route below, never contacted; a loopback origin is a secure context.
  const url = 'http://127.0.0.1:9/fake-meet';
  await page.route(url, route => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>fake Meet</title>' }));
  await page.goto(url);
  await page.addScriptTag({ path: fileURLToPath(new URL('fake-meet.js', import.meta.url)) });
  return page;
}

// Answers a page's join call from the fake Meet peer; remembers which client id it got.
async function answerFromFake(entry, route) {
  const { offer } = route.request().postDataJSON();
  const interval = spec.fakeMeet.uploadIntervalSeconds ?? 1;
  const { id, answer } = await fakeMeet.evaluate(([o, i]) => window.fakeMeet.answer(o, i), [offer, interval]);
  entry.fakeId = id;
  await route.fulfill({ json: { answer, participantId: 1000 + id, traceId: `fake-${id}` } });
}

async function open(browser, entry) {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  if (fakeMeet) await context.route(JOIN_CALL, route => answerFromFake(entry, route).catch(e => errors.push(`fake Meet: ${e}`)));
  const page = await context.newPage();
  page.on('console', m => {
    const where = m.location()?.url ? ` (${m.location().url})` : '';
    if (m.type() === 'error' || m.type() === 'warning') entry.console.push(`${m.type()}: ${m.text()}${where}`);
  });
  page.on('pageerror', e => {
    entry.pageErrors.push(String(e));
    errors.push(`${entry.url}: uncaught ${e}`);
  });
  const response = await page.goto(entry.url);
  if (!response || !response.ok()) throw new Error(`${entry.url}: HTTP ${response?.status()}`);
  entry.page = page;
}

// Runs the page's due actions; a failing one fails the run.
async function runActions(entry) {
  for (const action of entry.actions) {
    if (!entry.page || action.ranAtMs !== null || elapsed() < (action.atMs ?? 0)) continue;
    try {
      if (await entry.page.evaluate(action.source)) action.ranAtMs = elapsed();
    } catch (e) {
      throw new Error(`${entry.url}: action ${JSON.stringify(action.eval)}: ${e}`);
    }
  }
}

async function snapshot(entry) {
  const out = { url: entry.url, opened: entry.page !== null };
  if (entry.page) {
    try {
      const s = await entry.page.evaluate(entry.snapshot);
      Object.assign(out, { ready: s.ready, untilMet: s.untilMet, tcn: s.tcn ?? null, stats: s.stats ?? null });
    } catch (e) {
      if (/SyntaxError/.test(String(e))) throw new Error(`pollUntil: ${e}`); // would never pass
      Object.assign(out, { ready: false, untilMet: false, snapshotError: String(e) });
    }
  }
  if (fakeMeet && entry.fakeId !== undefined) {
    out.fakeMeet = { requests: await fakeMeet.evaluate(id => window.fakeMeet.requests[id], entry.fakeId) };
  }
  const actions = entry.actions.map(a => ({ eval: a.eval, ranAtMs: a.ranAtMs }));
  return Object.assign(out, { actions, console: entry.console, pageErrors: entry.pageErrors });
}

const print = line => process.stdout.write(`${JSON.stringify(line)}\n`);

let browser;
let code = 0;
try {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
  if (spec.fakeMeet) fakeMeet = await openFakeMeet(browser);
  // Open each page at its start time, in parallel with the polling below.
  const opening = pages.map(async entry => {
    await sleep(entry.startAfterMs - elapsed());
    await open(browser, entry);
  });
  let failure = null;
  Promise.all(opening).catch(e => (failure ??= e));
  const tick = pollMs ?? 250;
  for (let n = 1; ; n++) {
    await sleep(Math.min(tick, durationMs - elapsed()));
    if (failure) throw failure;
    await Promise.all(pages.map(runActions));
    const snapshots = await Promise.all(pages.map(snapshot));
    const waiting = spec.pollUntil || spec.pages.some(p => p.pollUntil);
    const finished = elapsed() >= durationMs || (waiting && snapshots.every(s => s.untilMet));
    if (finished) {
      print({ done: true, elapsedMs: elapsed(), browserVersion: browser.version(), pages: snapshots });
      break;
    }
    if (pollMs) print({ poll: n, elapsedMs: elapsed(), pages: snapshots });
  }
} catch (e) {
  errors.push(String(e?.stack ?? e));
} finally {
  await browser?.close().catch(e => errors.push(`close: ${e}`));
}
if (errors.length) {
  process.stderr.write(`driver: ${errors.join('\ndriver: ')}\n`);
  code = 1;
}
process.exit(code);
