// Playwright for the breachd console's browser tests. web/browser_test.go (go test) starts the
// console and runs this with the base URL, the accounts and the directories in the environment.
// It drives Debian's Chromium and never downloads a browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
const { defineConfig } = require('@playwright/test');

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with go test -run TestBrowser ./web`);
  return v;
};

module.exports = defineConfig({
  testDir: './specs',
  outputDir: process.env.BREACHD_PLAYWRIGHT_OUTPUT || require('os').tmpdir() + '/breachd-playwright',
  // Two cores shared with others: one worker, generous time, and no retry hiding a flaky step.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  forbidOnly: true,
  reporter: [['list']],
  use: {
    baseURL: need('BREACHD_URL'),
    viewport: { width: 1280, height: 900 },
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    screenshot: 'only-on-failure',
    trace: 'off',
    video: 'off',
    launchOptions: {
      executablePath: process.env.BREACHD_CHROMIUM || '/usr/bin/chromium',
      // A closed network makes Chromium wait on its background services without these.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
  },
});
