// axe-core on folio's reader and admin pages, in Debian's Chromium driven
// by puppeteer-core. Signs in first (the admin pages need a session).
// Usage: node axe.mjs BASE_URL EMAIL PASSWORD PATH...   (exit 1 on any violation)
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const [base, email, password, ...paths] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
let failures = 0;
try {
  const page = await browser.newPage();
  // folio's CSP allows no script at all: let axe's in.
  await page.setBypassCSP(true);
  await page.goto(`${base}/admin/login`);
  await page.type("#email", email);
  await page.type("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("form.form button[type=submit]")]);
  for (const width of [390, 1100]) {
    await page.setViewport({ width, height: 900, isMobile: width < 500 });
    for (const path of paths) {
      await page.goto(`${base}${path}`);
      await page.evaluate(axeSource);
      const result = await page.evaluate(() =>
        axe.run(document, { resultTypes: ["violations"] }));
      const violations = result.violations;
      const status = violations.length === 0 ? "ok" : `${violations.length} violation(s)`;
      console.log(`axe ${width}px ${path}: ${status}`);
      for (const v of violations) {
        failures += 1;
        console.log(`  ${v.id} (${v.impact}): ${v.help}`);
        for (const node of v.nodes.slice(0, 5)) console.log(`    ${node.target.join(" ")}: ${node.failureSummary.split("\n").join(" ")}`);
      }
    }
  }
} finally {
  await browser.close();
}
process.exit(failures === 0 ? 0 : 1);
