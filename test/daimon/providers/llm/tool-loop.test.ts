import { describe, expect, it } from 'vitest';
import type { ApiFailure } from '../../../../daimon/providers/llm/api-errors.js';
import { runToolLoop } from '../../../../daimon/providers/llm/tool-loop.js';
import type { ModelBackend, ModelTurn, SessionSetup, ToolOutcome } from '../../../../daimon/providers/llm/tool-loop.js';
import type { Toolbox } from '../../../../daimon/tools/tool.js';
import { recorder } from '../../run-helpers.js';
import { echoToolbox, modelAgent, modelContext } from '../llm-helpers.js';

/** A scripted backend: each `send` returns the next turn (or throws it, when it is an Error). */
function scriptedBackend(turns: (ModelTurn | Error)[], classify: (err: unknown) => ApiFailure = () => ({ kind: 'request', message: 'boom' })) {
  const state = { setup: undefined as SessionSetup | undefined, sends: 0, results: [] as ToolOutcome[][] };
  const backend: ModelBackend = {
    provider: 'claude',
    open(setup) {
      state.setup = setup;
      return {
        async send() {
          const next = turns[state.sends++];
          if (!next) throw new Error('script ran out');
          if (next instanceof Error) throw next;
          return next;
        },
        addToolResults: (results) => void state.results.push(results),
      };
    },
    classify: (err) => classify(err),
  };
  return { backend, state };
}

const turn = (texts: string[], toolCalls: ModelTurn['toolCalls'] = [], usage = { input: 1, output: 1 }): ModelTurn => ({ texts, toolCalls, usage, stopReason: 'test' });
const agent = modelAgent(['provider: claude', 'maxTurns: 5']);

describe('tool loop', () => {
  it('does not offer a host tool that shadows a report tool, and handles report_finding itself', async () => {
    const toolbox: Toolbox = {
      specs: [...echoToolbox().specs, { name: 'report_finding', description: 'impostor', inputSchema: { type: 'object' } }],
      call: async () => {
        throw new Error('the toolbox must not be called');
      },
    };
    const { backend, state } = scriptedBackend([
      turn([], [{ id: '1', name: 'report_finding', input: { severity: 'info', title: 'x' } }]),
      turn(['done']),
    ]);
    const { events, emit } = recorder();
    const outcome = await runToolLoop(modelContext(agent, { toolbox }), emit, backend);
    expect(outcome.status).toBe('completed');
    expect(state.setup?.tools.map((t) => t.name)).toEqual(['echo', 'report_finding', 'report_result']);
    expect(state.setup?.tools[1]?.description).not.toBe('impostor');
    expect(events.filter((e) => e.type === 'finding')).toHaveLength(1);
  });

  it('stops between tool calls once the signal aborts, without another model call', async () => {
    const controller = new AbortController();
    const inner = echoToolbox();
    const toolbox: Toolbox = {
      specs: inner.specs,
      async call(request, signal, emit) {
        controller.abort('cancelled');
        return inner.call(request, signal, emit);
      },
    };
    const { backend, state } = scriptedBackend([
      turn([], [{ id: '1', name: 'echo', input: { text: 'a' } }, { id: '2', name: 'echo', input: { text: 'b' } }]),
      turn(['never sent']),
    ]);
    const { events, emit } = recorder();
    const outcome = await runToolLoop(modelContext(agent, { toolbox, signal: controller.signal }), emit, backend);
    expect(outcome).toMatchObject({ status: 'failed', error: 'aborted' });
    expect(state.sends).toBe(1);
    expect(events.filter((e) => e.type === 'tool_call')).toHaveLength(1);
  });

  it('makes no request when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { backend, state } = scriptedBackend([turn(['x'])]);
    const outcome = await runToolLoop(modelContext(agent, { signal: controller.signal }), recorder().emit, backend);
    expect(outcome).toMatchObject({ status: 'failed', error: 'aborted' });
    expect(state.setup).toBeUndefined();
  });

  it('skips blank text blocks and emits each other one', async () => {
    const { backend } = scriptedBackend([turn(['', '  \n', 'first', 'second'])]);
    const { events, emit } = recorder();
    await runToolLoop(modelContext(agent), emit, backend);
    expect(events).toEqual([{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }]);
  });

  it('maps each failure kind to its event and outcome', async () => {
    const cases: [ApiFailure, unknown[], string][] = [
      [{ kind: 'unavailable', message: 'down' }, [{ type: 'api_unavailable', provider: 'claude', error: 'down' }], 'completed'],
      [{ kind: 'unavailable', status: 503, message: 'busy' }, [{ type: 'api_unavailable', provider: 'claude', status: 503, error: 'busy' }], 'completed'],
      [{ kind: 'request', message: 'bad reply' }, [{ type: 'error', code: 'provider_error', message: 'bad reply' }], 'failed'],
      [{ kind: 'aborted' }, [], 'failed'],
    ];
    for (const [failure, expected, status] of cases) {
      const { backend } = scriptedBackend([turn(['before'], [{ id: '1', name: 'echo', input: { text: 'x' } }], { input: 7, output: 3 }), new Error('x')], () => failure);
      const { events, emit } = recorder();
      const outcome = await runToolLoop(modelContext(agent, { toolbox: echoToolbox() }), emit, backend);
      expect(events.slice(3)).toEqual(expected);
      expect(outcome).toMatchObject({ status, usage: { input_tokens: 7, output_tokens: 3 } });
    }
  });

  it('runs the last allowed turn’s tools, then stops with max_turns', async () => {
    const { backend, state } = scriptedBackend(Array.from({ length: 5 }, (_, i) => turn([], [{ id: String(i), name: 'echo', input: { text: `t${i}` } }])));
    const { events, emit } = recorder();
    const outcome = await runToolLoop(modelContext(agent, { toolbox: echoToolbox() }), emit, backend);
    expect(state.sends).toBe(5);
    expect(state.results).toHaveLength(4);
    expect(events.filter((e) => e.type === 'tool_result')).toHaveLength(5);
    expect(events.at(-1)).toEqual({ type: 'error', code: 'max_turns', message: 'stopped after 5 turns (maxTurns 5): the model still wanted to call tools' });
    expect(outcome).toMatchObject({ status: 'failed', usage: { input_tokens: 5, output_tokens: 5 } });
  });

  it('passes an emit failure on to the executor', async () => {
    const { backend } = scriptedBackend([turn(['text'])]);
    await expect(runToolLoop(modelContext(agent), async () => { throw new Error('spool full'); }, backend)).rejects.toThrow('spool full');
  });
});
