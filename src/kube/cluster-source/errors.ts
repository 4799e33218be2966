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

/** A paginated LIST whose continue token expired mid-way (410); the listing must start again. */
export class ExpiredError extends ClusterError {
  constructor(what: string, pagesRead: number, cause?: unknown) {
    super(
      410,
      `listing ${what} took too long: the API server expired its continue token after ${pagesRead} page${pagesRead === 1 ? '' : 's'}; start the listing again`,
      cause,
    );
  }
}
