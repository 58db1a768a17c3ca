// The walk-through of issue 9, as the people who do it would: an administrator records a breach
// (a mistake corrected), uploads the sample people and sends; a clerk prints, mails and calls; an
// auditor reads the status, the audit trail and a notice's history. Each step is found by its
// visible label, role or heading; every page is checked with axe and photographed at two widths.
const fs = require('fs');
const { test, expect } = require('@playwright/test');
const { env, look, signIn, signOut, breachNav } = require('./helpers');

test.describe.configure({ mode: 'serial' });

// A script error on any page fails the step that caused it.
test.beforeEach(({ page }) => {
  page.on('pageerror', (e) => { throw new Error(`script error on ${page.url()}: ${e.message}`); });
});

const title = 'Stolen laptop with the 2025 enrolment export';
let breachURL = ''; // the breach page, once recorded

test('an administrator records a breach, correcting a mistake, with the live preview', async ({ page }) => {
  await page.goto('/breaches');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await look(page, 'signin');
  await signIn(page, 'admin');
  await look(page, 'breaches-empty');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New breach' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Record a new breach' })).toBeVisible();
  const preview = page.getByRole('region', { name: 'What the law requires' });
  await expect(preview).toContainText('See the plan for what is on the form');

  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Discovered on').fill('2026-03-03');
  await page.getByLabel('(A) What happened').fill('A staff laptop holding an enrolment export was stolen from a car.');
  await page.getByLabel('Name', { exact: true }).check();
  await page.getByLabel('Social Security number').check();
  await page.getByLabel('Number of people affected').fill('12');
  await page.getByLabel(/Likely:/).check();
  // The live preview: the plan follows the form, nothing saved.
  await expect(preview.getByText('Notice is required.')).toBeVisible();
  await expect(preview).toContainText('A preview: nothing is stored until you save.');
  await page.getByLabel(/Unlikely:/).check();
  const review = page.getByLabel('The written review of the risk');
  await review.fill('The export held only names and dates of birth of staff who left in 2019.');
  await expect(preview.getByText('(it may still be given)')).toBeVisible();
  await review.fill('');
  await page.getByLabel(/Likely:/).check();
  await expect(preview.getByText('Notice is required.')).toBeVisible();

  // The mistake: the count in words.
  await page.getByLabel('Number of people affected').fill('twelve');
  await page.getByLabel('(C) Measures taken to stop further breaches').fill('Laptops are now encrypted.');
  await page.getByLabel('(D) Telephone number for assistance').fill('+1 317 555 0100');
  await page.getByLabel('Reported by: name').fill('Dana Whitfield');
  await page.getByLabel('The school has usable contact details for everyone affected').check();
  await page.getByRole('button', { name: 'Record the breach' }).click();
  await expect(page.getByRole('alert')).toContainText('There is a problem');
  const count = page.getByLabel('Number of people affected');
  await expect(count).toHaveAttribute('aria-invalid', 'true');
  const inline = page.locator('#f-affected_count-error');
  await expect(inline).toBeVisible();
  // The summary says what the field says, named by the field's own label, and leads to it.
  const said = (await inline.innerText()).replace(/^Error:\s*/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const named = page.getByRole('alert').getByRole('link', { name: new RegExp('^Number of people affected: ' + said, 'i') });
  await expect(named).toBeVisible();
  await named.click();
  await expect(count).toBeFocused();
  await look(page, 'new-breach-error');

  await count.fill('12');
  await page.getByRole('button', { name: 'Record the breach' }).click();
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  breachURL = new URL(page.url()).pathname;
  await look(page, 'breach');
});

test('keyboard: the navigation and the form are reached by Tab, with a visible focus', async ({ page }) => {
  await signIn(page, 'admin');
  const focusShows = async (loc, what) => {
    for (let i = 0; i < 60 && !(await loc.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await expect(loc, `${what} is reached by Tab`).toBeFocused();
    const style = await loc.evaluate((el) => { const s = getComputedStyle(el); return { o: s.outlineStyle, w: s.outlineWidth, bg: s.backgroundColor, sh: s.boxShadow }; });
    expect(style.o !== 'none' && style.w !== '0px', `${what} shows its focus (outline ${style.o} ${style.w})`).toBeTruthy();
  };
  await page.goto('/breaches');
  await page.locator('body').focus();
  await focusShows(page.getByRole('link', { name: 'Skip to main content' }), 'the skip link');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await focusShows(nav.getByRole('link', { name: 'Breaches' }), 'the Breaches link');
  await focusShows(nav.getByRole('link', { name: 'New breach' }), 'the New breach link');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Record a new breach' })).toBeVisible();
  await focusShows(page.getByLabel('Title'), 'the Title field');
  await focusShows(page.getByLabel('Discovered on'), 'the Discovered on field');
  await focusShows(page.getByRole('button', { name: 'Record the breach' }), 'the Record button');
});

test('an administrator uploads the sample people, declares them complete and sends', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto(breachURL);
  await breachNav(page).getByRole('link', { name: 'Affected people' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Affected people' })).toBeVisible();
  await look(page, 'people-empty');
  await page.getByLabel('A CSV file with a header row, or an NDJSON file').setInputFiles(env('BREACHD_SAMPLE_CSV'));
  await page.getByRole('button', { name: 'Upload' }).click();
  const report = page.getByRole('heading', { name: 'What the upload did' });
  await expect(report).toBeVisible();
  const panel = page.locator('.panel').filter({ has: report });
  await expect(panel).toContainText('11 rows read');
  await expect(panel).toContainText('already held');
  await look(page, 'people-report');

  await page.getByRole('button', { name: 'Declare the list complete' }).click();
  await expect(page.getByRole('status')).toContainText('declared complete');

  // Sending is refused in words while languages lack a notice; the breach page records a fallback.
  await breachNav(page).getByRole('link', { name: 'Send' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Send the notices' })).toBeVisible();
  await expect(page.getByText('Nothing can be sent until every person has a notice they can be given.')).toBeVisible();
  await look(page, 'dispatch-refused');
  await page.getByRole('link', { name: 'Add the text or send these people the English notice' }).click();
  for (;;) {
    const form = page.getByRole('form', { name: /^English fallback for / }).first();
    if ((await form.count()) === 0) break;
    await form.getByLabel('Reason').fill('No translator before the deadline; the family liaison will call.');
    await form.getByRole('button', { name: 'Send these people the English notice' }).click();
    await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  }
  await breachNav(page).getByRole('link', { name: 'Send' }).click();
  await expect(page.getByText('Nothing can be sent until')).toHaveCount(0);
  await look(page, 'dispatch');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Send the notices' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notices queued' })).toBeVisible();
  await look(page, 'dispatch-queued');
  await page.goto('/breaches');
  await look(page, 'breaches');
  await signOut(page);
});

test('a clerk prints a batch, marks it mailed and records a call', async ({ page }) => {
  await signIn(page, 'clerk');
  await page.getByRole('link', { name: title }).click();
  await expect(breachNav(page).getByRole('link', { name: 'Send' })).toHaveCount(0);
  await breachNav(page).getByRole('link', { name: 'Print room' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Print room' })).toBeVisible();
  await look(page, 'print');
  await page.getByRole('button', { name: 'Make a print batch' }).click();
  const batch = page.getByRole('region', { name: 'Batch 1' });
  await expect(batch).toContainText('Not yet mailed');
  await look(page, 'print-batch');
  const pdf = page.waitForEvent('download');
  await batch.getByRole('link', { name: 'Download the PDF of batch 1' }).click();
  expect((await pdf).suggestedFilename()).toBe('batch-1.pdf');
  await batch.getByRole('button', { name: 'Mark mailed' }).click();
  await expect(page.getByRole('region', { name: 'Batch 1' })).not.toContainText('Not yet mailed');

  // The people list, searched by name without its accents, then by ID.
  await breachNav(page).getByRole('link', { name: 'Affected people' }).click();
  const search = page.getByRole('search', { name: 'The people' });
  await search.getByLabel('Search by name or ID').fill('nunez');
  await search.getByRole('button', { name: 'Search' }).click();
  const people = page.getByRole('region', { name: 'The people' }).getByRole('row');
  await expect(people).toHaveCount(3); // the header, José and Sofía Núñez-Peña
  await expect(people.nth(1)).toContainText('Núñez-Peña');
  await look(page, 'people-search');
  // On a phone each person is a card: the list does not scroll sideways and the Language shows.
  const desk = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const list = page.getByRole('region', { name: 'The people' });
  expect(await list.evaluate((el) => el.scrollWidth - el.clientWidth), 'the people list scrolls sideways at 390 px').toBeLessThanOrEqual(0);
  const language = await list.locator('td[data-label="Language"]').first().boundingBox();
  expect(language.x + language.width, 'the Language is cut off at 390 px').toBeLessThanOrEqual(390);
  await page.setViewportSize(desk);
  await search.getByLabel('Search by name or ID').fill('E-2003');
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(people).toHaveCount(2);

  await breachNav(page).getByRole('link', { name: 'Call list' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Call list' })).toBeVisible();
  await look(page, 'calls');
  const parts = page.getByRole('group', { name: 'What you said (for a conversation)' }).getByRole('checkbox');
  for (const box of await parts.all()) await box.check();
  await page.getByRole('button', { name: 'Conversation' }).click();
  await expect(page.getByText('Notice given by telephone.')).toBeVisible();
  await look(page, 'calls-done');
});

test('a clerk is refused the users page, and a form without its token is refused', async ({ page }) => {
  await signIn(page, 'clerk');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/users');
  await expect(page.getByRole('heading', { level: 1, name: 'You cannot use this page' })).toBeVisible();
  await look(page, 'refused');

  await page.goto(breachURL + '/print');
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Record returned mail' }) });
  await form.locator('input[name=csrf]').evaluate((el) => el.remove());
  await form.getByLabel('Notice number on the returned letter').fill('nt_01JQ6Z8Y3T9V5K2M4N7P0R1S2T');
  await form.getByRole('button', { name: 'Record returned mail' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'This form has expired' })).toBeVisible();
  await look(page, 'csrf-refused');
  await page.goto('/breaches');
  await signOut(page);
});

test('an auditor reads the status, the audit trail and a notice, and changes nothing', async ({ page }) => {
  await signIn(page, 'auditor');
  await page.getByRole('link', { name: title }).click();
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(breachNav(page).getByRole('link', { name: 'Send' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Revise the determination' })).toHaveCount(0);
  await look(page, 'breach-auditor');

  await breachNav(page).getByRole('link', { name: 'Status' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Delivery status' })).toBeVisible();
  // The chart of notices given ends on the page's given count: five letters mailed, one call.
  await expect(page.getByRole('img', { name: 'Notices given over time' }).first()).toBeVisible();
  await page.getByText('The numbers behind the chart').click();
  const given = page.getByRole('table', { name: 'Notices given, by day' }).getByRole('row');
  await expect(given.last()).toContainText('20 Mar 2026');
  await expect(given.last().getByRole('cell').last()).toHaveText('6');
  await expect(page.getByRole('listitem').filter({ hasText: /given$/ })).toContainText('6');
  // …and the two are the same number, whatever the scenario gives.
  const pageGiven = (await page.getByRole('listitem').filter({ hasText: /given$/ }).innerText()).match(/\d+/)[0];
  await expect(given.last().getByRole('cell').last()).toHaveText(pageGiven);
  await look(page, 'status');
  const csv = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Every notice and its history (CSV)' }).click();
  const file = await (await csv).path();
  expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toContain('notice_id');

  await breachNav(page).getByRole('link', { name: 'Audit trail' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit trail' })).toBeVisible();
  await look(page, 'audit');
  await page.getByLabel('Show events of type').selectOption('plan.dispatched');
  await page.getByRole('button', { name: 'Filter' }).click();
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(2); // the header and the one dispatch
  await expect(rows.nth(1)).toContainText('plan.dispatched');
  await expect(rows.nth(1)).toContainText('dana');

  await breachNav(page).getByRole('link', { name: 'Status' }).click();
  await page.getByRole('link', { name: 'See every notice, one by one' }).click();
  await look(page, 'notices');
  await page.getByRole('table').getByRole('link').first().click();
  await expect(page.getByRole('heading', { level: 1, name: /^Notice to / })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await look(page, 'notice');

  await page.goto('/users');
  await expect(page.getByRole('heading', { level: 1, name: 'You cannot use this page' })).toBeVisible();
  await page.goto('/breaches');
  await signOut(page);
  await page.goto('/breaches');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
});
