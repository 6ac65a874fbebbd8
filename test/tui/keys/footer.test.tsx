import { afterEach, describe, expect, test } from 'vitest';
import { hintText, packHints } from '../../../tui/components/footer-layout.js';
import { BINDINGS, type Scope } from '../../../tui/keys/bindings.js';
import { footerHints, shortLabel } from '../../../tui/keys/footer.js';
import { snapshot } from '../store/fixtures.js';
import { renderConsole, type RenderedConsole } from '../support/frame.js';

/**
 * What the footer must hint for `scopes`, straight from the table: footer bindings, view scopes before global,
 * leaving out a global one whose key a view binding takes over (e.g. enter in the dispatch form).
 */
function expectedFromTable(scopes: Scope[]): string[] {
  const order = [...scopes.filter((s) => s !== 'global'), 'global'];
  const viewKeys = new Set(BINDINGS.filter((b) => b.scope !== 'global' && scopes.includes(b.scope)).flatMap((b) => b.keys));
  return order.flatMap((s) =>
    BINDINGS.filter((b) => b.scope === s && b.footer === true && !(s === 'global' && viewKeys.has(b.keys[0]!))).map((b) => b.id),
  );
}

describe('footerHints', () => {
  test.each<[Scope[]]>([[['fleet', 'global']], [['host', 'global']], [['findings.groups', 'findings', 'global']], [['run', 'global']], [['dispatch', 'global']]])(
    'are the footer bindings of %j, in table order',
    (scopes) => {
      expect(footerHints(scopes, 'operator').map((h) => h.id)).toEqual(expectedFromTable(scopes));
    },
  );

  test('label detail is dropped and role-gated hints are marked for a viewer', () => {
    const hints = footerHints(['fleet', 'global'], 'viewer');
    expect(hints.find((h) => h.id === 'global.command')?.label).toBe(shortLabel('command (:fleet :findings :runs :dispatch :q)'));
    expect(hints.find((h) => h.id === 'fleet.dispatch')).toMatchObject({ key: 'd', disabled: 'needs the operator role; you are viewer' });
    expect(hintText(hints.find((h) => h.id === 'fleet.dispatch')!)).toBe('⊘d dispatch to this host');
  });

  test('packing keeps the order and the line width', () => {
    const hints = footerHints(['findings.feed', 'findings', 'global'], 'operator');
    const lines = packHints(hints, 60, 9);
    expect(lines.flat()).toEqual(hints);
    for (const line of lines) expect(line.map(hintText).join('  ').length).toBeLessThanOrEqual(60);
    expect(packHints(hints, 60, 1)).toHaveLength(1);
  });
});

describe('the drawn footer', () => {
  let c: RenderedConsole | undefined;
  afterEach(() => c?.unmount());

  test('shows every footer binding of the fleet and host views when there is room', async () => {
    c = await renderConsole({ width: 200, height: 20, events: [snapshot()] });
    const footer = (): string => c!.frame().split('\n').at(-1)!;
    expect(footer()).toBe(footerHints(['fleet', 'global'], 'operator').map(hintText).join('  '));
    expect(footer()).toContain('s sort by next column');
    await c.press(':', 'r', 'u', 'n', 's', 'enter');
    expect(footer()).toBe(footerHints(['runs.orchestrations', 'runs', 'global'], 'operator').map(hintText).join('  '));
  });
});
