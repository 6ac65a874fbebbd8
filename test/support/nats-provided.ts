/** The nats-server a test run shares (started once by test/support/nats-global-setup.ts); tests read it with `testNatsUrl()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** `nats://127.0.0.1:PORT`; null when the run was started with OKESU_TEST_NATS=off. */
    natsUrl: string | null;
  }
}

export {};
