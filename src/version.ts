declare const __OKESU_VERSION__: string | undefined;

/** The okesu version: stamped into the bundle at build time, `0.0.0-dev` when running from source. */
export const VERSION: string = typeof __OKESU_VERSION__ === 'string' ? __OKESU_VERSION__ : '0.0.0-dev';
