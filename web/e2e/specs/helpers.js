// What every spec shares: signing in by the visible labels, and looking at a page the way the
// issue asks: axe (WCAG 2 A and AA) and a full-page screenshot at 1280 px and at 390 px.
const path = require('path');
const { expect } = require('@playwright/test');
const AxeBuilder = require('@axe-core/playwright').default;

const env = (name) => process.env[name];
const password = env('BREACHD_PASSWORD');
const users = { admin: env('BREACHD_ADMIN'), clerk: env('BREACHD_CLERK'), auditor: env('BREACHD_AUDITOR') };

const widths = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

// The WCAG 2.0 and 2.1 levels A and AA rules axe checks.
const wcag = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// look checks the page as it is now at both widths: no axe violation of WCAG 2 A/AA, nothing wider
// than the phone's screen except inside a scrolling table wrapper, and a screenshot of each.
async function look(page, name) {
  const original = page.viewportSize();
  for (const w of widths) {
    await page.setViewportSize({ width: w.width, height: w.height });
    const results = await new AxeBuilder({ page }).withTags(wcag).analyze();
    const found = results.violations.map((v) =>
      `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n'));
    expect(found, `axe on ${name} at ${w.width} px`).toEqual([]);
    if (w.name === 'phone') {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} at ${w.width} px is wider than the screen`).toBeLessThanOrEqual(0);
    }
    await page.screenshot({ path: path.join(env('BREACHD_SCREENSHOTS'), `${name}-${w.width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

async function signIn(page, who) {
  await page.goto('/signin');
  await page.getByLabel('Username').fill(users[who]);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Breaches' })).toBeVisible();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
}

// breachNav is the per-breach link row.
const breachNav = (page) => page.getByRole('navigation', { name: 'This breach' });

module.exports = { env, users, password, look, signIn, signOut, breachNav };
