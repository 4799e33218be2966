/** Exit codes shared by every command (CONTRACTS.md section 2). */
export const EXIT_OK = 0;
/** Findings: a denial, a lint problem. */
export const EXIT_FINDINGS = 1;
/** Usage error, or input that could not be read or parsed. */
export const EXIT_USAGE = 2;
