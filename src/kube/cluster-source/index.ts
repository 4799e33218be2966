/**
 * ClusterSource: the public surface. `openClusterSource` picks the implementation from the
 * command line: a directory with `--state DIR`, otherwise the API server. The API server
 * module (and with it @kubernetes/client-node) is imported only when it is used.
 */
import type { ClusterSource } from './types.js';
import type { ApiServerClient, ApiServerSourceOptions } from './api-server.js';
import { createDirectorySource, type DirectorySourceOptions } from './directory.js';

export type {
  ClusterSource,
  Informer,
  KindRef,
  ListOptions,
  ObjectRef,
  WatchEvent,
  WriteOptions,
} from './types.js';
export { AlreadyExistsError, ClusterError, ConflictError, ExpiredError, NotFoundError } from './errors.js';
export { createDirectorySource, STATE_DIR } from './directory.js';
export type { DirectoryProblem, DirectorySourceOptions } from './directory.js';
export type { ApiServerClient, ApiServerSourceOptions } from './api-server.js';
export { BUILTIN_KINDS, kindKey, refOf, type ResourceInfo } from './kinds.js';
export { parseLabelSelector, type LabelPredicate } from '../../lib/label-selector/index.js';

/** The API server source, loaded on demand. */
export async function createApiServerSource(options: ApiServerSourceOptions = {}): Promise<ClusterSource> {
  const { createApiServerSource: create } = await import('./api-server.js');
  return create(options);
}

/** Authenticated calls to the API server with the source's kubeconfig handling, loaded on demand. */
export async function createApiServerClient(options: ApiServerSourceOptions = {}): Promise<ApiServerClient> {
  const { createApiServerClient: create } = await import('./api-server.js');
  return create(options);
}

export interface OpenClusterSourceOptions {
  /** `--state DIR`: a directory of manifests instead of a cluster. */
  readonly state?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Passed to the directory source (problems in user manifests). */
  readonly onProblem?: DirectorySourceOptions['onProblem'];
}

export async function openClusterSource(opts: OpenClusterSourceOptions = {}): Promise<ClusterSource> {
  if (opts.state !== undefined && opts.state !== '') {
    return createDirectorySource(
      opts.state,
      opts.onProblem === undefined ? {} : { onProblem: opts.onProblem },
    );
  }
  return createApiServerSource({ kubeconfig: opts.kubeconfig, context: opts.context });
}
