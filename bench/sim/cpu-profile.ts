import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The `top` functions by self time in the `.cpuprofile` files of `dir` (written by `node --cpu-prof --cpu-prof-dir DIR`), excluding idle, as `name (file:line) N %` of busy samples. */
export function topSelfTime(dir: string, top = 5): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: ProfileNode[] };
    for (const n of profile.nodes) {
      const hits = n.hitCount ?? 0;
      if (hits === 0 || n.callFrame.functionName === '(idle)') continue;
      const file = n.callFrame.url.split('/').slice(-2).join('/');
      const key = `${n.callFrame.functionName || '(anonymous)'}${file ? ` (${file}:${n.callFrame.lineNumber + 1})` : ''}`;
      self.set(key, (self.get(key) ?? 0) + hits);
      total += hits;
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${k} ${((v / total) * 100).toFixed(1)} %`);
}
