import type { EventBody } from '../../src/protocol/event.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { PATH_TOOLS, checkTool, checkToolCall, offeredTools } from '../../src/specs/gate.js';
import type { Denial } from '../../src/specs/gate.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';
import type { EmitEvent } from '../provider.js';
import { buildChildEnv } from '../run/child-env.js';
import type { ChildEnv } from '../run/child-env.js';
import type { RunScope } from '../run/containment.js';
import { bashTool } from './bash-tool.js';
import { HOST_TOOL_NAMES, stoppedOutcome } from './host-tool.js';
import type { HostTool, HostToolName, StopReason, ToolContext, ToolOutcome } from './host-tool.js';
import { listFilesTool } from './list-files-tool.js';
import { readFileTool } from './read-file-tool.js';
import { searchTool } from './search-tool.js';
import type { Toolbox, ToolReply, ToolRequest } from './tool.js';
import { isOwnProcessPath, resolveToolPath } from './tool-paths.js';
import { createExecutableResolver } from '../policy/resolve-executable.js';

/** Options of a run's toolbox. */
export interface ToolboxOptions {
  /** Directory relative paths and commands start from (default: the daimon's). */
  cwd?: string;
  /** Environment of bash commands, already allowlisted (default: the allowlist over the daimon's environment). */
  env?: ChildEnv;
  /** The run's process scope: a command's processes end with the call, and at the latest with the run. */
  processes?: RunScope;
  /** Default per-call timeouts; bash's `timeout_s` overrides bash's for one call. */
  timeoutsMs?: Partial<Record<HostToolName, number>>;
  /** Time between SIGTERM and SIGKILL of a bash call's process group (default 3 s). */
  killGraceMs?: number;
}

/** Default per-call timeouts (SPEC §4.3): 60 s for bash, 30 s for the file tools. */
export const DEFAULT_TOOL_TIMEOUTS_MS: Readonly<Record<HostToolName, number>> = { bash: 60_000, read_file: 30_000, list_files: 30_000, search: 30_000 };

/** The host tools this build implements, by name. */
export const HOST_TOOLS: Readonly<Record<HostToolName, HostTool<unknown>>> = {
  bash: bashTool,
  read_file: readFileTool,
  list_files: listFilesTool,
  search: searchTool,
};

const OWN_PROCESS: Denial = { by: 'policy', reason: "the daimon's own process files (/proc/<its pid>) are never readable by tools" };

/**
 * The toolbox of one run: the agent's tools this build has, minus those the host policy denies. Every call is
 * recorded (`tool_call`, then `action_denied` or `tool_result`), validated, gated (agent tools, host policy,
 * rbac; paths checked both as given and with symlinks resolved) and run under its timeout. Never throws.
 */
export function createToolbox(agent: AgentSpec, policy: HostPolicy, options: ToolboxOptions = {}): Toolbox {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? buildChildEnv(process.env);
  const killGraceMs = options.killGraceMs ?? 3000;
  const executables = createExecutableResolver(env, cwd);
  const specs = offeredTools(agent, policy, HOST_TOOL_NAMES).map((name) => HOST_TOOLS[name as HostToolName].spec);

  const gatePath = async (tool: string, paths: string[]): Promise<Denial | undefined> => {
    for (const path of new Set(paths)) {
      const denial = checkToolCall(agent, policy, tool, path);
      if (denial) return denial;
    }
    for (const path of new Set(paths)) if (await isOwnProcessPath(path)) return OWN_PROCESS;
    return undefined;
  };

  return {
    specs,
    async call(request: ToolRequest, signal: AbortSignal, emit: EmitEvent): Promise<ToolReply> {
      const started = Date.now();
      const { id, name: tool, input } = request;
      const record = async (body: EventBody): Promise<boolean> => {
        try {
          await emit(body);
          return true;
        } catch {
          return false;
        }
      };
      const unrecorded: ToolReply = { content: `${tool} was not run: its events could not be recorded`, isError: true };
      const deny = async (denial: Denial): Promise<ToolReply> => {
        if (!(await record({ type: 'action_denied', id, tool, input, by: denial.by, reason: denial.reason }))) return unrecorded;
        return { content: `denied: ${denial.reason}`, isError: true };
      };
      const finish = async (outcome: ToolOutcome): Promise<ToolReply> => {
        const body = { type: 'tool_result', id, tool, output: outcome.content, is_error: outcome.isError, truncated: outcome.truncated, duration_ms: Date.now() - started };
        if (!(await record(body))) return unrecorded;
        return { content: outcome.content, isError: outcome.isError };
      };

      if (!(await record({ type: 'tool_call', id, tool, input }))) return unrecorded;
      const toolDenial = checkTool(agent, policy, tool);
      if (toolDenial) return deny(toolDenial);
      const hostTool = (HOST_TOOLS as Record<string, HostTool<unknown> | undefined>)[tool];
      if (!hostTool) return deny({ by: 'agent', reason: `${tool} is not a tool this daimon provides` });

      const parsed = hostTool.input.safeParse(input);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
        return finish({ content: `invalid input for ${tool}: ${problems}`, isError: true, truncated: false });
      }
      const subject = hostTool.subject(parsed.data);
      let path = '';
      try {
        if (PATH_TOOLS.has(tool)) {
          const resolved = await resolveToolPath(cwd, subject);
          const denial = await gatePath(tool, [resolved.resolved, resolved.real]);
          if (denial) return deny(denial);
          path = resolved.real;
        } else {
          const denial = checkToolCall(agent, policy, tool, subject, executables);
          if (denial) return deny(denial);
        }
      } catch (err) {
        return finish({ content: `${tool} failed: ${(err as Error).message}`, isError: true, truncated: false });
      }

      const timeoutMs = hostTool.timeoutMs?.(parsed.data) ?? options.timeoutsMs?.[tool as HostToolName] ?? DEFAULT_TOOL_TIMEOUTS_MS[tool as HostToolName];
      const outcome = await runWithDeadline(hostTool, parsed.data, signal, timeoutMs, (callSignal, stopReason) => ({
        signal: callSignal,
        stopReason,
        timeoutMs,
        cwd,
        env,
        ...(options.processes && { processes: options.processes }),
        killGraceMs,
        path,
        isHidden: async (entry) => (await gatePath(tool, [entry])) !== undefined,
      }));
      return finish(outcome);
    },
  };
}

/**
 * Runs one call under its own signal, aborted by the timeout or the run's cancel. A tool that does not wind down
 * within the kill grace (plus a margin) after that is abandoned with a stopped outcome; a throw becomes an error.
 */
async function runWithDeadline(
  tool: HostTool<unknown>,
  input: unknown,
  runSignal: AbortSignal,
  timeoutMs: number,
  context: (signal: AbortSignal, stopReason: () => StopReason | undefined) => ToolContext,
): Promise<ToolOutcome> {
  const controller = new AbortController();
  let reason: StopReason | undefined;
  const stop = (why: StopReason): void => {
    reason ??= why;
    controller.abort(why);
  };
  const onCancel = (): void => stop('cancelled');
  runSignal.addEventListener('abort', onCancel, { once: true });
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const ctx = context(controller.signal, () => reason);
  let abandon: NodeJS.Timeout | undefined;
  try {
    if (runSignal.aborted) return stoppedOutcome({ ...ctx, stopReason: () => 'cancelled' });
    const abandoned = new Promise<ToolOutcome>((resolve) => {
      controller.signal.addEventListener('abort', () => {
        abandon = setTimeout(() => resolve(stoppedOutcome(ctx)), ctx.killGraceMs + 5000);
      }, { once: true });
    });
    return await Promise.race([tool.run(input, ctx), abandoned]);
  } catch (err) {
    return reason ? stoppedOutcome(ctx) : { content: `${tool.spec.name} failed: ${(err as Error).message}`, isError: true, truncated: false };
  } finally {
    clearTimeout(timer);
    clearTimeout(abandon);
    runSignal.removeEventListener('abort', onCancel);
  }
}
