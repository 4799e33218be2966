/** Errors of ClusterSource writes, with the HTTP status the API server would answer. */
import { PodsecError } from '../../lib/errors.js';
import type { ObjectRef } from './types.js';

function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

export class ClusterError extends PodsecError {
  readonly status: number;
  constructor(status: number, message: string, cause?: unknown) {
    super('INTERNAL', message, cause === undefined ? {} : { cause });
    this.status = status;
  }
}

export class ConflictError extends ClusterError {
  constructor(ref: ObjectRef, cause?: unknown) {
    super(
      409,
      `${describeRef(ref)} was changed by someone else (resourceVersion conflict); re-read and retry`,
      cause,
    );
  }
}

export class NotFoundError extends ClusterError {
  constructor(ref: ObjectRef, cause?: unknown) {
    super(404, `${describeRef(ref)} not found`, cause);
  }
}

export class AlreadyExistsError extends ClusterError {
  constructor(ref: ObjectRef, cause?: unknown) {
    super(409, `${describeRef(ref)} already exists`, cause);
  }
}
