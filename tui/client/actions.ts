import type { CreateRunInput, CreateRunsInput, StartOrchestrationInput } from '../../src/transport/operator-client.js';
import type { TriageStatus } from '../../src/protocol/finding.js';

/**
 * What keys can make happen at the CP. Implemented by the console client (tui/client/); components and key hooks
 * get it from React context (`useActions()`), never a socket. Each call reports its outcome as a flash and applies
 * the CP's answer to the store; none throws.
 */
export interface ConsoleActions {
  /** Triage one finding or its whole fingerprint group. */
  triage(findingId: number, status: TriageStatus, scope: 'finding' | 'group'): Promise<void>;
  approveStep(runId: string, step: string): Promise<void>;
  rejectStep(runId: string, step: string): Promise<void>;
  cancelOrchestrationRun(id: string): Promise<void>;
  cancelRun(runId: string): Promise<void>;
  /** Dispatches an agent (one host, a list or a selector); resolves to the created run ids (empty on failure). */
  dispatchAgent(request: CreateRunInput | CreateRunsInput): Promise<string[]>;
  /** Starts an orchestration; resolves to its run id (undefined on failure). */
  startOrchestration(request: StartOrchestrationInput): Promise<string | undefined>;
  /** Fetches a finding's raw event into `details.findingEvents`. */
  openFinding(id: number): void;
  /** Follows a run's transcript (long poll) into `details.transcript`, replacing any other. */
  followTranscript(runId: string): void;
  stopTranscript(): void;
  /** Reloads everything (also done by itself after a stream gap). */
  refresh(): void;
  /** Leaves the console (restores the terminal). */
  quit(): void;
}
