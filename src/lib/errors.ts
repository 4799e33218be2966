/**
 * Errors shared by every area. Expected outcomes (a check result, a decision) are values;
 * these classes are for faults and for input that cannot be used, and carry stable codes
 * so the edges (CLI, servers) can map them to exit codes and HTTP answers.
 */

export type ErrorCode =
  'USAGE' | 'INPUT_UNREADABLE' | 'INPUT_PARSE' | 'INPUT_NOT_KUBERNETES' | 'CONFIG_INVALID' | 'INTERNAL';

export interface SourceLocation {
  file: string | null;
  line?: number | undefined;
  column?: number | undefined;
}

export class PodsecError extends Error {
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { location?: SourceLocation; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location;
    this.hint = options.hint;
  }
}

/** A command line that cannot be run as given (exit code 2). */
export class UsageError extends PodsecError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint === undefined ? {} : { hint });
  }
}

/** One problem in a configuration file, with its position. */
export interface ConfigIssue {
  file: string | null;
  line: number;
  column: number;
  path: string;
  message: string;
}

/** `file:line:column: path: message`, leaving out the path when the issue concerns the whole document. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.file ?? '-'}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/**
 * A configuration file that failed validation; carries every issue found, not just the first.
 * `message` replaces the list in the text when one sentence says it all (an unreadable file).
 */
export class ConfigError extends PodsecError {
  readonly issues: readonly ConfigIssue[];
  constructor(
    file: string | null,
    issues: readonly ConfigIssue[],
    options: { message?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(
      'CONFIG_INVALID',
      options.message ??
        `${file ?? 'configuration'}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` +
          issues.map((i) => `  ${formatConfigIssue(i)}`).join('\n'),
      {
        location: { file, line: issues[0]?.line, column: issues[0]?.column },
        ...(options.hint === undefined ? {} : { hint: options.hint }),
        ...(options.cause === undefined ? {} : { cause: options.cause }),
      },
    );
    this.issues = issues;
  }
}
