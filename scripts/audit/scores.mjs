// Prints the category scores of Lighthouse JSON reports, and the failed
// audits of any category under the bar. Usage: node scores.mjs MIN REPORT...
import { readFileSync } from "node:fs";

const [min, ...reports] = process.argv.slice(2);
let below = 0;
for (const file of reports) {
  const lhr = JSON.parse(readFileSync(file, "utf8"));
  const scores = Object.values(lhr.categories).map((c) => [c.title, Math.round(c.score * 100)]);
  console.log(`${lhr.finalDisplayedUrl}  ${scores.map(([t, s]) => `${t} ${s}`).join(" · ")}  (Lighthouse ${lhr.lighthouseVersion}, ${lhr.configSettings.formFactor})`);
  for (const [id, cat] of Object.entries(lhr.categories)) {
    if (Math.round(cat.score * 100) >= Number(min)) continue;
    below += 1;
    for (const ref of cat.auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        console.log(`    ${id}: ${audit.id} (${audit.score}): ${audit.title}${audit.displayValue ? ` — ${audit.displayValue}` : ""}`);
      }
    }
  }
}
process.exit(below === 0 ? 0 : 1);
