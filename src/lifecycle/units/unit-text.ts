import { launchdPlist } from './launchd-plist.js';
import { systemdUnit } from './systemd-unit.js';
import type { UnitOptions } from './unit-options.js';

/** The init systems okesu writes a unit for. */
export const UNIT_KINDS = ['systemd', 'launchd'] as const;
/** An init system okesu writes a unit for. */
export type UnitKind = (typeof UNIT_KINDS)[number];

/** The unit text for `kind`: a systemd service or a launchd plist. */
export function unitText(kind: UnitKind, opts: UnitOptions & { version: string }): string {
  switch (kind) {
    case 'systemd':
      return systemdUnit(opts);
    case 'launchd':
      return launchdPlist(opts);
  }
}
