import type { Report } from './model.js';

/** The machine report: the Report object itself (src/report/schema.json describes it). */
export function renderJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
