import { afterEach, describe, expect, it } from 'vitest';
import type { ConsoleActions } from '../../../../tui/client/actions.js';
import { renderConsole, type RenderedConsole } from '../../support/frame.js';
import { CONNECTED, snapshot } from '../findings/fixtures.js';
import { orchRun, step } from '../run/fixtures.js';
import { CHECK, SWEEP, TRIAGE } from './fixtures.js';

const SNAP = '../../../../snapshots';
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

async function dispatchView(opts: { host?: string; role?: 'viewer' | 'operator'; actions?: Partial<ConsoleActions> } = {}) {
  c = await renderConsole({
    role: opts.role,
    actions: opts.actions,
    events: [
      CONNECTED,
      snapshot({ agents: [SWEEP, CHECK], orchestrations: [TRIAGE] }),
      { type: 'ui/jump', view: 'fleet' },
      ...(opts.host !== undefined ? [{ type: 'ui/push' as const, frame: { view: 'dispatch' as const, key: opts.host } }] : [{ type: 'ui/jump' as const, view: 'dispatch' as const }]),
    ],
  });
  return c;
}

/** Presses each character of `text` as a key. */
const type = (c: RenderedConsole, text: string) => c.press(...[...text]);

describe('dispatch view', () => {
  it('shows an agent with its declared inputs and defaults, targets prefilled with the host it was opened for', async () => {
    const c = await dispatchView({ host: 'web-01' });
    expect(c.frame()).toContain('orch  c2-callback-triage');
    await type(c, 'sweep');
    await c.press('enter');
    const frame = c.frame();
    expect(frame).toMatch(/What\s+agent ioc-sweep/);
    expect(frame).toMatch(/› Targets\s+web-01/);
    expect(frame).toMatch(/depth\s+2\s+number — directory depth/);
    expect(frame).toMatch(/paths\s+\/etc,\/tmp\s+list — where to look/);
    expect(frame).toContain('will run agent ioc-sweep on web-01');
    await expect(frame).toMatchFileSnapshot(`${SNAP}/dispatch-agent-form.txt`);
  });

  it('typed characters go to the focused field, not to the global keys; enter runs it and lands on the run', async () => {
    const c = await dispatchView({ host: 'web-01', actions: { dispatchAgent: async () => ['r_01JHK3Q40777ABCDEFGHJKMNPQ'] } });
    await type(c, 'sweep');
    await c.press('enter', 'tab', 'tab');
    // q, j, /, : and 1 would quit, move, filter, prompt and jump; here they are text.
    await type(c, 'q/j:1');
    expect(c.frame()).toMatch(/› ioc\s+q\/j:1/);
    expect(c.calls.some((x) => x.name === 'quit')).toBe(false);
    expect(c.store.getState().ui.prompt).toBeNull();
    await c.press('ctrl+u');
    await type(c, '203.0.113.7');
    await c.press('tab', 'backspace');
    await type(c, '3');
    await c.press('enter');
    await c.settle((f) => f.includes('run r_01JHK3Q40777'));
    expect(c.calls.filter((x) => x.name === 'dispatchAgent').map((x) => x.args)).toEqual([
      [{ agent: 'ioc-sweep', prompt: '', inputs: { ioc: '203.0.113.7', depth: 3, deep: false, paths: ['/etc', '/tmp'] }, host: 'web-01' }],
    ]);
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'run', key: 'agent:r_01JHK3Q40777ABCDEFGHJKMNPQ' });
  });

  it('asks to confirm a selector and lands on the agent runs of a fan-out', async () => {
    const c = await dispatchView({ actions: { dispatchAgent: async () => ['r_1', 'r_2'] } });
    await type(c, 'host-check');
    await c.press('enter');
    await type(c, 'label:zone=a');
    await c.press('enter');
    expect(c.frame()).toContain('Run agent host-check on label:zone=a? [y/n]');
    expect(c.calls.some((x) => x.name === 'dispatchAgent')).toBe(false);
    await c.press('y');
    await c.settle((f) => f.includes('[agent runs]'));
    expect(c.calls.filter((x) => x.name === 'dispatchAgent').map((x) => x.args)).toEqual([[{ agent: 'host-check', prompt: '', inputs: {}, selector: 'label:zone=a' }]]);
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'runs', filter: 'agent:host-check' });
  });

  it('says what is wrong instead of running a bad form', async () => {
    const c = await dispatchView();
    await type(c, 'sweep');
    await c.press('enter');
    expect(c.frame()).toContain('! no targets: give hosts (a,b), label:k=v or all');
    await c.press('enter');
    expect(c.frame()).toContain('no targets: give hosts');
    expect(c.calls.some((x) => x.name === 'dispatchAgent')).toBe(false);
  });

  it('starts an orchestration with its inputs after a confirm and lands on its run view', async () => {
    const started = orchRun('o_01JHK3Q4STARTED00000000AB', { name: 'c2-callback-triage', status: 'running', trigger: { pid: 4242 }, steps: [step('triage', { agent: 'ioc-sweep', status: 'running' }), step('contain', { agent: 'contain' })] });
    const holder: { store?: RenderedConsole['store'] } = {};
    const c = await dispatchView({
      actions: {
        // As the client does: apply the CP's answer to the store, then resolve to the id.
        startOrchestration: async () => {
          holder.store?.dispatch({ type: 'orchestration-run', run: started });
          return started.id;
        },
      },
    });
    holder.store = c.store;
    await c.press('tab');
    await type(c, 'pid=4242');
    await c.press('enter');
    expect(c.frame()).toContain('Run orchestration c2-callback-triage on the hosts its steps name? [y/n]');
    await c.press('y');
    await c.settle((f) => f.includes('… triage'));
    expect(c.calls.filter((x) => x.name === 'startOrchestration').map((x) => x.args)).toEqual([[{ name: 'c2-callback-triage', inputs: { pid: 4242 } }]]);
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'run', key: `orch:${started.id}` });
    await expect(c.frame()).toMatchFileSnapshot(`${SNAP}/dispatch-orchestration-landed.txt`);
  });

  it('esc leaves the form; a viewer is told why it cannot run', async () => {
    const c = await dispatchView({ host: 'web-01', role: 'viewer' });
    await type(c, 'check');
    await c.press('tab', 'enter');
    expect(c.frame()).toContain('run it — needs the operator role; you are viewer');
    expect(c.calls.some((x) => x.name === 'dispatchAgent')).toBe(false);
    await c.press('esc');
    expect(c.store.getState().ui.stack).toEqual([{ view: 'fleet' }]);
  });
});
