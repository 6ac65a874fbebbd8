import { z } from 'zod';

/** An operator client context (SPEC §2.1), like a kubeconfig: `admin.yaml` is one. */
export const clientConfigSchema = z.object({
  cp: z.url({ protocol: /^https$/, error: 'cp must be an https:// URL' }),
  ca: z.string().includes('BEGIN CERTIFICATE', { message: 'ca must be a PEM certificate' }),
  token: z.string().regex(/^okt_[A-Za-z0-9]+_[A-Za-z0-9_-]+$/, 'token must be an operator token (okt_…)'),
  name: z.string().default(''),
});
/** A parsed client context. */
export type ClientConfig = z.infer<typeof clientConfigSchema>;
