// ui.mjs - the web UI in a real browser: Debian's chromium driven by
// playwright-core against a running `evident http` (tests/e2e/t77-browser.sh
// starts the server and the data).  Prints TAP lines ("ok N - what");
// screenshots go to $SHOTS (tests/browser/screenshots/, git-ignored).
//
// env: URL (server), EV_USER and EV_OTP (a user with a one-time password),
// EV_USER2 and EV_OTP2 (a second person, who approves the post-incident
// review), EV_ALERT (an open alert id), SHOTS, PROFILE (a fresh user-data-dir).
import { chromium } from 'playwright-core';

const { URL, EV_USER, EV_OTP, EV_USER2, EV_OTP2, EV_ALERT, SHOTS, PROFILE } = process.env;
let n = 0, failed = 0;
function check(ok, what, detail) {
  n++;
  if (!ok) failed++;
  console.log(`${ok ? '' : 'not '}ok ${n} - ${what}${ok || !detail ? '' : `  # ${detail}`}`);
}

const ctx = await chromium.launchPersistentContext(PROFILE, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage'],
  viewport: { width: 1280, height: 900 },
});
const page = ctx.pages()[0] || await ctx.newPage();
const problems = [];
// 401 (the wrong password), 403 (the forged form) and 409 (the owner's
// approval, the early close) are this test's own doing.
page.on('console', (m) => {
  if (m.type() === 'error' && !/status of 40[139] /.test(m.text())) problems.push(m.text());
});
page.on('pageerror', (e) => problems.push(String(e)));
page.on('request', (r) => { if (!r.url().startsWith(URL)) problems.push(`outside request ${r.url()}`); });
const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

try {
  await page.goto(`${URL}/`);
  check(new globalThis.URL(page.url()).pathname === '/login', 'an unauthenticated visit lands on the sign-in page', page.url());
  await page.fill('#user', EV_USER);
  await page.fill('#password', 'not-the-password');
  await page.click('#login button[type=submit]');
  check((await page.textContent('main')).includes('Wrong user or password'), 'a wrong password is refused');
  await page.fill('#user', EV_USER);
  await page.fill('#password', EV_OTP);
  await page.click('#login button[type=submit]');
  check(new globalThis.URL(page.url()).pathname === '/password', 'the one-time password leads to the password form', page.url());
  await shot('password');
  await page.fill('#current', EV_OTP);
  await page.fill('#new', 'browser-tested-passphrase');
  await page.fill('#confirm', 'browser-tested-passphrase');
  await page.click('#password-form button[type=submit]');
  check(new globalThis.URL(page.url()).pathname === '/', 'after the change: the dashboard', page.url());
  check((await page.textContent('#whoami')).includes(EV_USER), 'the header names the user');
  check(await page.isVisible('#chart'), 'the dashboard draws the chart');
  check((await page.textContent('#open-alerts')).trim() === '1', 'one open alert on the dashboard');
  await shot('dashboard-empty');

  // Acknowledge the alert from the alert list.
  await page.goto(`${URL}/alerts`);
  const row = page.locator(`#alert-${EV_ALERT}`);
  check(await row.isVisible(), 'the alert is listed');
  await row.locator('select[name=disposition]').selectOption('escalated');
  await row.locator('input[name=note]').fill('checked in the browser');
  await row.locator('button[type=submit]').click();
  await page.goto(`${URL}/alerts?all=1`);
  check((await page.textContent(`#alert-${EV_ALERT}`)).includes('escalated by'), 'the acknowledgement shows');

  // Open an incident and classify it: the clocks start and count down.
  await page.goto(`${URL}/incidents`);
  await page.fill('#title', 'Timestamping unit returns <stale> tokens');
  await page.click('#open-form button[type=submit]');
  check(/\/incidents\/inc-\d{4}-\d{4}$/.test(page.url()), 'opening leads to the incident page', page.url());
  const incidentUrl = page.url();
  check((await page.textContent('#incident-title')).includes('<stale>'), 'the title is shown as text, not markup');
  await page.selectOption('#classify-severity', 'high');
  await page.fill('#classify-category', 'integrity');
  await page.selectOption('#classify-significant', 'yes');
  await page.fill('#classify-reason', 'tokens signed with a stale clock');
  await page.click('#form-classify button[type=submit]');
  check((await page.textContent('#classifications')).includes('tokens signed with a stale clock'), 'the classification is in the history');
  check((await page.textContent('#stage-bar .current')) !== 'detect-triage', 'the stage bar moved on');
  const cd = page.locator('#clocks .countdown').first();
  check(await cd.count() === 1, 'a running clock is shown');
  await page.waitForTimeout(1200);
  const t1 = await cd.textContent();
  check(/\d\d:\d\d:\d\d (left)$/.test(t1), 'the countdown runs (script allowed by the CSP)', t1);
  await shot('incident');
  // Record the notice that answers the first clock: chosen from the running clocks.
  const clockName = (await page.locator('#notify-clock option').first().textContent()).trim();
  await page.selectOption('#notify-to', 'supervisory-body');
  await page.selectOption('#notify-clock', clockName);
  await page.fill('#notify-ref', 'SB-2026-17');
  await page.fill('#notify-note', 'early warning sent');
  await page.click('#form-notify button[type=submit]');
  const stoppedRow = page.locator('#clocks tr', { hasText: clockName });
  check((await stoppedRow.textContent()).includes('stopped'), 'the notice stops its clock', clockName);
  await page.goto(`${URL}/`);
  check((await page.textContent('#open-incidents')).trim() === '1', 'the dashboard counts the incident');
  check(await page.locator('#incidents .countdown').count() > 0, 'the dashboard shows its live clocks');
  await shot('dashboard');

  // Ledger: verify, checkpoint, an entry with its proof.
  await page.goto(`${URL}/ledger`);
  await page.click('#verify-form button');
  check((await page.textContent('main')).includes('Verification passed'), 'verification from the page passes');
  check(await page.locator('#checkpoint-form').count() === 0, 'no checkpoint button for an incident manager (the matrix says so)');
  await page.click('#recent a >> nth=0');
  check(await page.isVisible('#proof-root'), 'an entry page shows its inclusion proof');
  await shot('ledger-entry');

  // A forged form (no CSRF token) is refused.
  const status = await page.evaluate(async () => {
    const r = await fetch('/ledger/verify', { method: 'POST', body: new URLSearchParams({}) });
    return r.status;
  });
  check(status === 403, 'a form post without the CSRF token is refused', String(status));

  // Walk the incident to closed through its forms: a response action, the
  // post-incident review, approval by someone other than the owner, close.
  const stage = async () => (await page.textContent('#stage-bar .current')).trim();
  await page.goto(incidentUrl);
  await page.selectOption('#act-type', 'recovery');
  await page.fill('#act-note', 'TSU clock resynchronised; stale tokens revoked');
  await page.click('#form-act button[type=submit]');
  check((await page.textContent('main')).includes('stale tokens revoked'), 'the response action is on the timeline');
  await page.fill('#review-root_cause', 'NTP source lost after a firewall change');
  await page.fill('#review-actions', 'alert on the TSU clock offset');
  await page.fill('#review-vulnerability_exposure', 'no other unit depends on that source');
  await page.click('#form-review button[type=submit]');
  check(await stage() === 'review-correct', 'the review brings the incident to review-correct', await stage());
  await page.click('#form-approve button[type=submit]');
  check(await page.locator('p.error').count() > 0, 'the owner cannot approve their own review');
  await page.fill('#close-note', 'too early');
  await page.click('#form-close button[type=submit]');
  check(await page.locator('p.error').count() > 0 && await stage() === 'review-correct',
    'close is refused while the review is not approved');
  await page.click('header form button');
  // The second person signs in (one-time password, then her own) and approves.
  await page.fill('#user', EV_USER2);
  await page.fill('#password', EV_OTP2);
  await page.click('#login button[type=submit]');
  await page.fill('#current', EV_OTP2);
  await page.fill('#new', 'second-person-passphrase');
  await page.fill('#confirm', 'second-person-passphrase');
  await page.click('#password-form button[type=submit]');
  await page.goto(incidentUrl);
  await page.click('#form-approve button[type=submit]');
  check(await page.locator('p.error').count() === 0, 'someone other than the owner approves the review');
  check(await page.locator('#form-close').count() === 0, 'the compliance role has no close form (the matrix says so)');
  await page.click('header form button');
  // The owner signs in again and closes.
  await page.fill('#user', EV_USER);
  await page.fill('#password', 'browser-tested-passphrase');
  await page.click('#login button[type=submit]');
  await page.goto(incidentUrl);
  await page.fill('#close-note', 'recovered, reviewed, approved');
  await page.click('#form-close button[type=submit]');
  check(await stage() === 'closed', 'the incident is closed', await stage());
  check(await page.locator('#form-act').count() === 0, 'a closed incident offers no more actions');
  await shot('incident-closed');
  await page.goto(`${URL}/`);
  check((await page.textContent('#open-incidents')).trim() === '0', 'the dashboard no longer counts it as open');
  await shot('dashboard-after-close');

  await page.click('header form button');
  check(new globalThis.URL(page.url()).pathname === '/login', 'signing out leads back to sign-in');
  check(problems.length === 0, 'no console errors, CSP violations or outside requests', problems.join(' | '));
} catch (e) {
  check(false, 'the browser run finished', String(e).split('\n')[0]);
} finally {
  await ctx.close();
}
process.exit(failed ? 1 : 0);
