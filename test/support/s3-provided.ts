/** The radosgw a test run shares (started once by test/support/s3-global-setup.ts); tests read it with `s3Config()`. */
export interface S3TestServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server's state directory: `scripts/s3-server.sh restart-rgw DIR` restarts radosgw alone. */
  dir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Unset when the run was started with OKESU_TEST_S3=off. */
    s3: S3TestServer | null;
  }
}
