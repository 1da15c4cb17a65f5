// Headless Chromium: the module loads and works in a page and in a module worker,
// and the page makes no request beyond its own files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

import { serve } from '../../scripts/serve.mjs';

const repoRoot = new URL('../../', import.meta.url).pathname;
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function checkScenario(result) {
  assert.equal(result.simd, 'wasm-simd128');
  // Popularity: a=3, b=2, c=1, d=1 (ties by item order); history [b] excludes b.
  assert.deepEqual(result.items.map((r) => r.id), ['a', 'c', 'd']);
  assert.deepEqual(result.items.map((r) => r.score), [3, 1, 1]);
  assert.deepEqual(result.unknown, ['unknown-item']);
  assert.equal(result.error.code, 'INVALID_ARGUMENT');
  assert.match(result.error.message, /k must be a positive integer/);
  assert.deepEqual(result.afterError, ['a']);
}

test('the module works in a Chromium page and in a module worker', async (t) => {
  const server = await serve(repoRoot);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });  // playwright gives each launch a fresh profile
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.newPage();
  const foreign = [];
  page.on('request', (req) => { if (!req.url().startsWith(server.url)) foreign.push(req.url()); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}/tests/e2e/pages/index.html`);
  await page.waitForFunction(() => window.ready === true);

  await t.test('in the page', async () => checkScenario(await page.evaluate(() => window.runInPage())));
  await t.test('in a module worker', async () => checkScenario(await page.evaluate(() => window.runInWorker())));

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreign, [], 'the page made requests to other origins');
  // Only the test page, the library and the wasm module were fetched.
  for (const path of server.requests) {
    assert.match(path, /^\/(tests\/e2e\/pages\/|web\/lib\/)/, `unexpected request ${path}`);
  }
});

test('the demo page trains in the tab and recommends from a pick', async (t) => {
  const server = await serve(repoRoot);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.newPage();
  const foreign = [];
  page.on('request', (req) => { if (!req.url().startsWith(server.url)) foreign.push(req.url()); });
  await page.goto(`${server.url}/web/demo/`);
  await page.waitForFunction(() => window.demoReady || window.demoError, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.demoError), undefined);
  // Empty history: the most-rated movie leads. After picking it, it is no longer recommended.
  assert.match(await page.textContent('#recommendations li:first-child'), /Forrest Gump/);
  await page.fill('#search', 'forrest gump');
  await page.click('#matches li:first-child');
  assert.match(await page.textContent('#history'), /Forrest Gump/);
  assert.equal(await page.locator('#recommendations li').count(), 10);
  assert.match(await page.textContent('#recommendations li:first-child'), /Shawshank Redemption/);
  // Another model is trained when it is picked, then recommends.
  assert.match(await page.textContent('#status'), /Trained popularity/);
  await page.selectOption('#model', 'item_knn');
  await page.waitForFunction(() => /Trained item_knn/.test(document.getElementById('status').textContent), null,
    { timeout: 60000 });
  assert.equal(await page.locator('#recommendations li').count(), 10);
  assert.deepEqual(foreign, []);
});
