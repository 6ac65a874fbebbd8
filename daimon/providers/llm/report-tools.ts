import { z } from 'zod';
import { describeIssues } from '../../../src/protocol/event.js';
import { CATEGORIES, SEVERITIES, findingFieldsSchema } from '../../../src/protocol/finding.js';
import type { EmitEvent } from '../../provider.js';
import type { ToolReply, ToolRequest, ToolSpec } from '../../tools/tool.js';

/** The tool a model reports a finding with (SPEC §5.2). */
export const REPORT_FINDING_TOOL: ToolSpec = {
  name: 'report_finding',
  description:
    'Report one finding: a security or reliability issue you found on this host, backed by evidence you saw in ' +
    'collector output or tool results. Call it once per distinct issue.',
  inputSchema: {
    type: 'object',
    properties: {
      severity: { type: 'string', enum: [...SEVERITIES], description: 'How bad it is.' },
      title: { type: 'string', maxLength: 120, description: 'Stable text naming the issue; no counters, times or "still ongoing" markers.' },
      category: { type: 'string', enum: [...CATEGORIES] },
      resource: { type: 'string', description: 'key:value pairs naming what is affected, e.g. "pid:1337, binary:/usr/bin/x".' },
      evidence: { type: 'array', items: { type: 'string' }, description: 'The exact telemetry lines that show it.' },
      dedup_key: { type: 'string', description: 'Stable identity of the issue, the same on every run that sees it.' },
      recommended_action: { type: 'string', description: 'What an operator should do.' },
      tags: { type: 'array', items: { type: 'string' } },
      attributes: { type: 'object', description: 'Free-form structured extras.' },
    },
    required: ['severity', 'title'],
    additionalProperties: false,
  },
};

/** The tool a model hands the run's structured result with (SPEC §5.3; used by orchestrations). */
export const REPORT_RESULT_TOOL: ToolSpec = {
  name: 'report_result',
  description: 'Report the structured result of this run (at most once), for the steps of an orchestration that come after it.',
  inputSchema: {
    type: 'object',
    properties: { attributes: { type: 'object', description: 'The result, as a JSON object.' } },
    required: ['attributes'],
    additionalProperties: false,
  },
};

/** The report tools, offered to the model after the host tools. */
export const REPORT_TOOLS: readonly ToolSpec[] = [REPORT_FINDING_TOOL, REPORT_RESULT_TOOL];

/** Names of the report tools: a host tool of the same name is not offered. */
export const REPORT_TOOL_NAMES: ReadonlySet<string> = new Set(REPORT_TOOLS.map((t) => t.name));

/** What the report tools remember across one run. */
export interface ReportState {
  resultReported: boolean;
}

const resultInputSchema = z.object({ attributes: z.record(z.string(), z.unknown()) });

/**
 * Handles a `report_finding` or `report_result` call: emits `tool_call`, the finding or result when the input is
 * valid, then `tool_result`, and returns what the model is told. Returns undefined for any other tool.
 */
export async function handleReportCall(request: ToolRequest, state: ReportState, emit: EmitEvent): Promise<ToolReply | undefined> {
  if (!REPORT_TOOL_NAMES.has(request.name)) return undefined;
  await emit({ type: 'tool_call', id: request.id, tool: request.name, input: request.input });
  const reply = request.name === REPORT_FINDING_TOOL.name ? await reportFinding(request.input, emit) : await reportResult(request.input, state, emit);
  await emit({ type: 'tool_result', id: request.id, tool: request.name, output: reply.content, is_error: reply.isError });
  return reply;
}

async function reportFinding(input: unknown, emit: EmitEvent): Promise<ToolReply> {
  const parsed = findingFieldsSchema.safeParse(input);
  if (!parsed.success) return { content: `finding not recorded: ${describeIssues(parsed.error)}`, isError: true };
  await emit({ type: 'finding', ...parsed.data });
  return { content: 'recorded', isError: false };
}

async function reportResult(input: unknown, state: ReportState, emit: EmitEvent): Promise<ToolReply> {
  if (state.resultReported) return { content: 'result not recorded: report_result may be called once per run, and it was already called', isError: true };
  const parsed = resultInputSchema.safeParse(input);
  if (!parsed.success) return { content: `result not recorded: ${describeIssues(parsed.error)}`, isError: true };
  state.resultReported = true;
  await emit({ type: 'orchestration_result', attributes: parsed.data.attributes });
  return { content: 'recorded', isError: false };
}
