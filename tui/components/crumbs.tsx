import { Text } from 'ink';
import { palette } from '../theme.js';
import type { ViewFrame } from '../store/ui-state.js';
import { sanitize } from './text.js';

/** How a frame reads in the crumbs: `fleet`, `host web-01`, `finding #42`, `findings [host:web-01]`. */
export function frameLabel(frame: ViewFrame): string {
  const key = frame.key !== undefined ? sanitize(frame.key) : undefined;
  const filter = frame.filter !== undefined ? ` [${sanitize(frame.filter)}]` : '';
  switch (frame.view) {
    case 'host':
      return `host ${key ?? ''}`;
    case 'finding':
      return `finding #${key ?? ''}`;
    case 'run':
      return `run ${key?.replace(/^(orch|agent):/, '') ?? ''}`;
    case 'dispatch':
      return key !== undefined ? `dispatch → ${key}` : 'dispatch';
    case 'fleet':
    case 'findings':
    case 'runs':
    case 'rollouts':
      return `${frame.view}${filter}`;
  }
}

/** The view stack as crumbs (`fleet › host web-01`), and the current frame's live filter if any. */
export function Crumbs(props: { stack: readonly ViewFrame[]; filter: string | undefined }) {
  return (
    <Text wrap="truncate-end">
      {props.stack.map((frame, i) => (
        <Text key={i} bold={i === props.stack.length - 1} color={i === props.stack.length - 1 ? palette.accent : palette.muted}>
          {i > 0 ? ' › ' : ''}
          {frameLabel(frame)}
        </Text>
      ))}
      {props.filter !== undefined && props.filter !== '' ? (
        <Text color={palette.muted}>
          {'   '}filter /{sanitize(props.filter)}
        </Text>
      ) : null}
    </Text>
  );
}
