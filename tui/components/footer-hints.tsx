import { Box, Text } from 'ink';
import type { Hint } from '../keys/footer.js';
import { palette } from '../theme.js';
import { HINT_GAP } from './footer-layout.js';

/** The footer: key hints (already packed into lines); disabled ones dimmed and marked `⊘`. */
export function FooterHints(props: { lines: readonly (readonly Hint[])[]; width: number }) {
  return (
    <Box flexDirection="column" width={props.width}>
      {props.lines.map((line, n) => (
        <Text key={n} wrap="truncate-end">
          {line.map((h, i) => (
            <Text key={h.id}>
              {i > 0 ? HINT_GAP : ''}
              {h.disabled !== undefined ? (
                <Text dimColor>
                  ⊘{h.key} {h.label}
                </Text>
              ) : (
                <>
                  <Text bold color={palette.accent}>
                    {h.key}
                  </Text>{' '}
                  {h.label}
                </>
              )}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
