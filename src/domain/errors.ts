/** One thing wrong with an input, located by a path such as `milestones[2].amount`. */
export interface Issue {
  path: string;
  code: string;
  message: string;
}

/**
 * A broken business rule. `code` is stable snake_case (clients branch on it);
 * `issues` locate each problem when there are several.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Throws one DomainError carrying every issue, or returns when there are none. */
export function assertNoIssues(code: string, summary: string, issues: Issue[]): void {
  if (issues.length === 0) return;
  const detail =
    issues.length === 1 ? issues[0]!.message : `${summary}: ${issues.map((i) => i.message).join('; ')}`;
  throw new DomainError(code, detail, issues);
}
