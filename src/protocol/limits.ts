/** Size limits enforced at every boundary; one place so the CP, the daimon and the tools agree. */
export const LIMITS = {
  /** Largest tunnel frame either side accepts (ws maxPayload). */
  tunnelFrameBytes: 4 * 1024 * 1024,
  /** Largest single event, serialised. */
  eventBytes: 256 * 1024,
  /** Most event records in one `events` frame. */
  recordsPerFrame: 1000,
  /** Largest operator API request body. */
  requestBodyBytes: 1024 * 1024,
  /** Largest agent definition sent with a dispatch. */
  agentDefinitionBytes: 256 * 1024,
  /** Largest line a custom provider may write on stdout before it is cut. */
  providerLineBytes: 256 * 1024,
  /** Largest frame on the operator live stream from a client. */
  streamClientFrameBytes: 64 * 1024,
} as const;
