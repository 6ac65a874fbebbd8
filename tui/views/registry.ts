import type { ComponentType } from 'react';
import type { ViewId } from '../store/ui-state.js';
import { DispatchView } from './dispatch/dispatch-view.js';
import { FindingView } from './finding/finding-view.js';
import { FindingsView } from './findings/findings-view.js';
import { FleetView } from './fleet/fleet-view.js';
import { HostView } from './host/host-view.js';
import { RunDetailView } from './run/run-detail-view.js';
import { RunsView } from './runs/runs-view.js';
import { RolloutsView } from './rollouts/rollouts-view.js';
import type { ViewProps } from './view-props.js';

export type { ViewProps } from './view-props.js';

/** The component that draws each view; the shell shows the one at the top of `ui.stack`. */
export const VIEWS: Readonly<Record<ViewId, ComponentType<ViewProps>>> = {
  fleet: FleetView,
  host: HostView,
  findings: FindingsView,
  finding: FindingView,
  runs: RunsView,
  run: RunDetailView,
  dispatch: DispatchView,
  rollouts: RolloutsView,
};
