/**
 * Writes N three-container Deployments (about 1 KB each) into one multi-document YAML file,
 * the input of the scan benchmark. Deterministic (no randomness), so figures compare across runs.
 * Three in ten pass restricted; the rest fail one to three checks (privileged, a missing
 * allowPrivilegeEscalation, a hostPort).
 *
 * Usage: tsx bench/gen-deployments.ts [--count N] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a generated Deployment breaks, chosen by its index. */
interface Flaws {
  privileged: boolean;
  noEscalationField: boolean;
  hostPort: boolean;
}

function flawsFor(i: number): Flaws {
  const k = i % 10;
  return {
    privileged: k === 1 || k === 4 || k === 7 || k === 9,
    noEscalationField: k === 2 || k === 4 || k === 8 || k === 9,
    hostPort: k === 3 || k === 7 || k === 8 || k === 9,
  };
}

function container(i: number, c: number, f: Flaws): string {
  const name = ['app', 'sidecar', 'metrics'][c] ?? `c${c}`;
  const lines = [
    `      - name: ${name}`,
    `        image: example.com/t${i % 37}/${name}:1.${i % 13}.${c}`,
    `        ports:`,
    `        - containerPort: ${8080 + c}`,
  ];
  if (f.hostPort && c === 0) lines.push(`          hostPort: ${30000 + (i % 2000)}`);
  if (c === 0)
    lines.push(
      `        resources:`,
      `          limits: {cpu: "${100 + c * 50}m", memory: ${64 * (c + 1)}Mi}`,
    );
  lines.push(`        securityContext:`);
  if (!(f.noEscalationField && c === 1)) lines.push(`          allowPrivilegeEscalation: false`);
  if (f.privileged && c === 2) lines.push(`          privileged: true`);
  lines.push(`          capabilities:`, `            drop: ["ALL"]`);
  return lines.join('\n');
}

/** One Deployment as YAML text, without the `---` separator. */
export function deployment(i: number): string {
  const f = flawsFor(i);
  const containers = [0, 1, 2].map((c) => container(i, c, f)).join('\n');
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  namespace: team-${i % 37}
  labels:
    app: web-${i}
    tier: "${i % 3 === 0 ? 'frontend' : 'backend'}"
spec:
  replicas: ${1 + (i % 5)}
  selector:
    matchLabels:
      app: web-${i}
  template:
    metadata:
      labels:
        app: web-${i}  # pod label
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
${containers}
`;
}

export function generate(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`---\n${deployment(i)}`);
  return parts.join('');
}

function main(argv: string[]): void {
  let count = 10_000;
  let out = 'bench/out/deployments.yaml';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--count') count = Number(argv[++i]);
    else if (argv[i] === '--out') out = argv[++i] ?? out;
  }
  if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');
  const text = generate(count);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(
    `wrote ${count} Deployments, ${(text.length / count).toFixed(0)} bytes each on average, to ${out}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
