/**
 * Safety for tests that run an Azure SDK credential in this worker (CONTRACTS.md section 7): this
 * machine has a route to a real 169.254.169.254, so every socket connect is checked and anything
 * but loopback (or a Unix socket) is refused and recorded; the test asserts the record is empty.
 * Also clears the SDK's environment so it cannot pick another managed-identity source.
 */
import net from 'node:net';

/** Variables through which the Azure SDKs choose a managed-identity endpoint. */
export const AZURE_SDK_ENV = [
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_TOKEN_CREDENTIALS',
  'AZURE_AUTHORITY_HOST',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
  'MSI_CLIENT_ID',
] as const;

export function isLoopback(host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h.startsWith('::ffff:127.');
}

export interface LoopbackGuard {
  /** Hosts a connection was refused to. */
  readonly blocked: string[];
  /** Restores net.Socket.prototype.connect and the environment. */
  uninstall(): void;
}

export function installLoopbackGuard(): LoopbackGuard {
  const blocked: string[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with the socket as `this`
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: unknown[]) {
    // Node's own callers (http.Agent, tls.connect) pass the normalized [options, callback] pair.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    let host: string | undefined;
    let isPath = false;
    if (typeof first === 'object' && first !== null) {
      const o = first as { host?: string; path?: string | null };
      isPath = typeof o.path === 'string';
      host = o.host ?? 'localhost';
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      host = typeof args[1] === 'string' ? args[1] : 'localhost';
    } else if (typeof first === 'string') {
      isPath = true;
    }
    if (!isPath && !isLoopback(host)) {
      blocked.push(String(host));
      process.nextTick(() =>
        this.destroy(new Error(`test guard: blocked non-loopback connection to ${host}`)),
      );
      return this;
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  };
  const saved = new Map<string, string | undefined>();
  for (const name of AZURE_SDK_ENV) {
    saved.set(name, process.env[name]);
    delete process.env[name];
  }
  return {
    blocked,
    uninstall() {
      net.Socket.prototype.connect = original;
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
