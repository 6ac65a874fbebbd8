import { Text } from 'ink';
import { useConsole } from '../hooks/console-context.js';
import { palette } from '../theme.js';
import { sanitize } from './text.js';

const FLASH_GLYPH = { info: '·', warn: '!', error: '✗' } as const;

/**
 * The line above the footer: the open prompt (`/filter` or `:command`, with a cursor), else the pending confirm
 * question with `[y/n]`, else the flash message, else blank.
 */
export function StatusLine() {
  const prompt = useConsole((s) => s.ui.prompt);
  const confirm = useConsole((s) => s.ui.confirm);
  const flash = useConsole((s) => s.ui.flash);
  if (prompt !== null) {
    return (
      <Text wrap="truncate-start">
        <Text bold color={palette.accent}>
          {prompt.kind === 'filter' ? '/' : ':'}
        </Text>
        {sanitize(prompt.text)}
        <Text inverse> </Text>
        <Text color={palette.muted}>{prompt.kind === 'filter' ? '  enter keep · esc clear' : '  enter run · esc cancel'}</Text>
      </Text>
    );
  }
  if (confirm !== null) {
    return (
      <Text wrap="truncate-end" color={palette.warn} bold>
        ? {sanitize(confirm.message)} [y/n]
      </Text>
    );
  }
  if (flash !== null) {
    const color = flash.level === 'error' ? palette.error : flash.level === 'warn' ? palette.warn : palette.ok;
    return (
      <Text wrap="truncate-end" color={color}>
        {FLASH_GLYPH[flash.level]} {sanitize(flash.text)}
      </Text>
    );
  }
  return <Text> </Text>;
}
