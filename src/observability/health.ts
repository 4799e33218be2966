/**
 * Liveness and readiness with named conditions. The webhook is live as long as it can answer;
 * it is ready only once every registered condition holds (config loaded, certificate loaded,
 * caches synced), so the Service sends it no admission traffic before it could judge correctly.
 * /readyz names what is missing, which is what an operator looks for first.
 */

export interface Condition {
  readonly name: string;
  readonly ok: boolean;
  readonly message: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly conditions: readonly Condition[];
}

export class Health {
  private readonly conditions = new Map<string, Condition>();

  /** Registers conditions that start unmet. */
  constructor(names: readonly string[] = []) {
    for (const name of names) this.conditions.set(name, { name, ok: false, message: 'not yet' });
  }

  set(name: string, ok: boolean, message = ok ? 'ok' : 'not yet'): void {
    this.conditions.set(name, { name, ok, message });
  }

  readiness(): Readiness {
    const conditions = [...this.conditions.values()];
    return { ready: conditions.every((c) => c.ok), conditions };
  }

  /** Conditions that do not hold. */
  failing(): Condition[] {
    return [...this.conditions.values()].filter((c) => !c.ok);
  }
}

/** The conditions `podsec webhook` waits for. */
export const WEBHOOK_CONDITIONS = ['config', 'certificate', 'caches'] as const;
