/** `podsec identity controller` flags; the implementation (identity-controller.ts) is imported only when it runs. */
import type { Command } from 'commander';

export function defineIdentityController(identity: Command): void {
  identity
    .command('controller')
    .description(
      'run the Managed Identity Controller: keep one AzureAssignedIdentity per matching (pod, identity)',
    )
    .option('--state <dir>', 'a directory of manifests as the cluster view, instead of the API server')
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the API server (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option(
      '--allow-cross-namespace',
      "let bindings match pods in other namespaces (upstream aad-pod-identity's behaviour; unsafe)",
      false,
    )
    .option(
      '--leader-elect [bool]',
      'only one replica works at a time (Lease); --leader-elect=false to run alone',
      'true',
    )
    .option('--lease-namespace <ns>', 'namespace of the Lease', 'podsec-system')
    .option('--resync <seconds>', 'full reconcile at least this often', '30')
    .option(
      '--operation-mode <mode>',
      'standard: attach user-assigned identities (type 0) to node VMs/scale sets through Azure Resource Manager ' +
        '(needs --cloud-config); managed: they are attached by the operator beforehand, no ARM calls, ' +
        'assignments Assigned at once (as upstream)',
      'standard',
    )
    .option(
      '--cloud-config <file>',
      'standard mode: azure.json with tenantId, aadClientId, aadClientSecret, subscriptionId (resourceGroup, ' +
        'vmType optional) for the ARM calls; without it no ARM is configured and type 0 identities are ' +
        "treated as attached already. Identities served by podsec's issuer (types 1, 2) never need ARM",
    )
    .option(
      '--arm-endpoint <url>',
      'Azure Resource Manager base URL (trust a private CA with NODE_EXTRA_CA_CERTS)',
      'https://management.azure.com',
    )
    .option(
      '--authority-host <url>',
      'Azure AD authority host for the cloud config credential',
      'https://login.microsoftonline.com',
    )
    .option(
      '--immutable-user-msis <ids>',
      'comma-separated client IDs or resource IDs of user-assigned identities never removed from a node ' +
        '(podsec only ever removes identities it added itself, recorded in ConfigMap ' +
        'podsec-identity-node-assignments in --lease-namespace)',
    )
    .option(
      '--identity-assignment-reconcile-interval <seconds>',
      'standard mode: re-read every VM/scale set this often and re-attach identities that went missing',
      '180',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { runIdentityController } = await import('./identity-controller.js');
      const text = (k: string): string | undefined => (typeof opts[k] === 'string' ? opts[k] : undefined);
      // ARM-only flags are passed only when typed, so a stray one can be refused (not its default).
      const typed = (k: string): string | undefined =>
        cmd.getOptionValueSource(k) === 'default' ? undefined : text(k);
      process.exitCode = await runIdentityController({
        state: text('state'),
        kubeconfig: text('kubeconfig'),
        context: text('context'),
        allowCrossNamespace: opts['allowCrossNamespace'] === true,
        leaderElect: opts['leaderElect'] === true ? 'true' : (text('leaderElect') ?? 'true'),
        leaseNamespace: text('leaseNamespace'),
        resync: text('resync'),
        operationMode: text('operationMode'),
        cloudConfig: text('cloudConfig'),
        armEndpoint: typed('armEndpoint'),
        authorityHost: typed('authorityHost'),
        immutableUserMsis: typed('immutableUserMsis'),
        assignmentReconcileInterval: typed('identityAssignmentReconcileInterval'),
        logLevel: text('logLevel'),
      });
    });
}
