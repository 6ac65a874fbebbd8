import { z } from 'zod';

/** An operator client context (SPEC §2.1), like a kubeconfig: `admin.yaml` is one. */
export const clientConfigSchema = z.object({
  cp: z.url({ protocol: /^https$/, error: 'cp must be an https:// URL' }),
  ca: z.string().includes('BEGIN CERTIFICATE', { message: 'ca must be a PEM certificate' }),
  token: z.string().regex(/^okt_[0-9a-f]{16}_[0-9a-f]{64}$/, 'token must be an operator token (okt_ followed by 16 + 64 hex digits)'),
  name: z.string().default(''),
});
/** A parsed client context. */
export type ClientConfig = z.infer<typeof clientConfigSchema>;
