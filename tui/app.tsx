import { Box } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Crumbs } from './components/crumbs.js';
import { FooterHints } from './components/footer-hints.js';
import { packHints } from './components/footer-layout.js';
import { Header } from './components/header.js';
import { HelpOverlay } from './components/help-overlay.js';
import { StatusLine } from './components/status-line.js';
import { useConsole, useDispatch } from './hooks/console-context.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { footerHints } from './keys/footer.js';
import type { HelpScroll } from './keys/key-context.js';
import { activeScopes } from './keys/scopes.js';
import { useGlobalKeys } from './keys/use-global-keys.js';
import { useViewKeysSlot, ViewKeysProvider } from './keys/view-keys.js';
import { currentFrame } from './store/reduce-ui.js';
import { FLASH_MS, frameKey, type Flash } from './store/ui-state.js';
import { VIEWS } from './views/registry.js';

/** Lines the shell itself takes: two header lines, the crumbs and the status line (the footer comes on top). */
const CHROME_LINES = 4;

/**
 * The console: one fixed frame of header, the current view (top of the view stack) sized to the rows left, crumbs,
 * a status line (prompt, confirm question or flash) and the footer hints — or the `?` overlay in place of the view.
 * It draws one line less than the terminal has: a frame as tall as the terminal makes Ink clear the screen on
 * every redraw (flicker). Must be inside a ConsoleProvider.
 */
export function App() {
  const { columns, rows } = useTerminalSize();
  const ui = useConsole((s) => s.ui);
  const role = useConsole((s) => s.me?.role ?? null);
  const dispatch = useDispatch();
  const slot = useViewKeysSlot();
  const [helpLine, setHelpLine] = useState(0);
  const helpMax = useRef(0);
  const help = useMemo<HelpScroll>(() => {
    let line = 0;
    return {
      get: () => line,
      set: (n) => {
        line = Math.max(0, Math.min(n, helpMax.current));
        setHelpLine(line);
      },
    };
  }, []);
  useGlobalKeys(slot, help);
  useFlashClear(ui.flash, dispatch);

  const frame = currentFrame(ui);
  const height = Math.max(CHROME_LINES + 2, rows - 1);
  const hints = useMemo(() => footerHints(activeScopes(ui), role), [ui, role]);
  const footer = packHints(hints, columns, 2);
  const viewHeight = Math.max(1, height - CHROME_LINES - footer.length);
  const View = VIEWS[frame.view];
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Header width={columns} />
      <Box height={viewHeight} width={columns} flexDirection="column" overflow="hidden">
        {ui.help ? (
          <HelpOverlay width={columns} height={viewHeight} scroll={helpLine} onMaxScroll={(m) => (helpMax.current = m)} />
        ) : null}
        {/* The view stays mounted under the overlay so its scroll position and registration survive. */}
        <Box display={ui.help ? 'none' : 'flex'} flexDirection="column">
          <ViewKeysProvider slot={slot}>
            <View key={frameKey(frame)} frame={frame} width={columns} height={viewHeight} />
          </ViewKeysProvider>
        </Box>
      </Box>
      <Crumbs stack={ui.stack} filter={ui.filters[frameKey(frame)]} />
      <StatusLine />
      <FooterHints lines={footer} width={columns} />
    </Box>
  );
}

/** Clears the flash FLASH_MS after it was raised (only if it is still the same flash). */
function useFlashClear(flash: Flash | null, dispatch: ReturnType<typeof useDispatch>): void {
  useEffect(() => {
    if (flash === null) return undefined;
    const timer = setTimeout(() => dispatch({ type: 'ui/flash-clear', at: flash.at }), FLASH_MS);
    return () => clearTimeout(timer);
  }, [flash, dispatch]);
}
