/** Placeholder replaced below. */
import type { AuditReport } from '../../audit/report.js';
export function renderHtmlReport(report: AuditReport, _o: { source: string; generatedAt: Date }): string {
  return `<!doctype html><title>podsec</title><pre>${JSON.stringify(report.summary)}</pre>`;
}
