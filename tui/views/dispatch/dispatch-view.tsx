import { Box, Text } from 'ink';
import { useMemo, useRef, useState } from 'react';
import { pad, sanitize, textWidth } from '../../components/text.js';
import { useConsole } from '../../hooks/console-context.js';
import { GLYPHS, palette } from '../../theme.js';
import type { ViewProps } from '../view-props.js';
import { focusedField, formChoice, initialForm, withChoice, type DispatchForm } from './dispatch-form.js';
import { planDispatch } from './dispatch-request.js';
import { choiceLabel, choices, fieldHint, fieldKey, fieldLabel, matchChoices, type Choice, type Field } from './dispatch-rows.js';
import { useDispatchKeys } from './use-dispatch-keys.js';

const LABEL = 11;

/**
 * Dispatch: pick an orchestration or an agent of the CP's library, its targets (hosts, `label:k=v`, `all`;
 * prefilled with the host it was opened for) and inputs (an agent's declared inputs with their defaults, an
 * orchestration's as free `k=v`), and run it with enter; the console then shows the run.
 */
export function DispatchView({ frame, width, height }: ViewProps) {
  const orchestrations = useConsole((s) => s.orchestrations);
  const agents = useConsole((s) => s.agents);
  const loaded = useConsole((s) => s.loaded);
  const all = useMemo(() => choices(orchestrations, agents), [orchestrations, agents]);
  const [typed, setForm] = useState<DispatchForm>(() => initialForm(all, frame.key));
  const form = withChoice(typed, all);
  const latest = useRef(form);
  latest.current = form;
  useDispatchKeys(all, {
    get: () => latest.current,
    set: (next) => {
      latest.current = next;
      setForm(next);
    },
  });
  const { fields, field: focused } = focusedField(form, all);
  const choice = formChoice(form, all);
  const plan = planDispatch(choice, form.values);
  const listHeight = Math.max(1, Math.min(6, height - fields.length - 5));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Dispatch</Text>
        <Text color={palette.muted}>{frame.key !== undefined ? `  to ${sanitize(frame.key)}` : ''}  tab: next field · enter: run · esc: back</Text>
      </Text>
      {fields.map((f) => (
        <Box key={fieldKey(f)} flexDirection="column">
          <FieldLine field={f} form={form} choice={choice} focused={f === focused} width={width} />
          {f.id === 'what' && f === focused ? <ChoiceList all={all} form={form} height={listHeight} empty={loaded ? 'the CP has no agents or orchestrations' : 'connecting to the CP…'} /> : null}
        </Box>
      ))}
      <Text> </Text>
      <Text wrap="truncate-end" color={plan.ok ? palette.muted : palette.warn}>
        {plan.ok ? `will run ${plan.what} on ${plan.targets}${plan.confirm ? ' (asks to confirm)' : ''}` : `! ${plan.error}`}
      </Text>
    </Box>
  );
}

/** One field: `›` and a cursor when focused, its label, its text (or the choice), and what it takes. */
function FieldLine(props: { field: Field; form: DispatchForm; choice: Choice | undefined; focused: boolean; width: number }) {
  const { field, form, focused } = props;
  const marker = focused ? `${GLYPHS.selected} ` : '  ';
  if (field.id === 'run') {
    return (
      <Text wrap="truncate-end">
        {marker}
        {pad('', LABEL)}
        <Text inverse={focused} bold>
          {' Run '}
        </Text>
        <Text color={palette.muted}>{`  ${fieldHint(field)}`}</Text>
      </Text>
    );
  }
  const text = field.id === 'what' ? (focused ? form.query : props.choice ? choiceLabel(props.choice) : '') : (form.values[fieldKey(field)] ?? '');
  // Values in a column wide enough for hostnames and IPs, hints after it; a longer value pushes its hint right.
  const valueWidth = Math.max(12, Math.min(36, props.width - LABEL - 30));
  const shown = sanitize(text);
  const hint = field.id === 'what' ? (focused ? 'type to search, ↑/↓ choose' : (props.choice?.description ?? '')) : fieldHint(field);
  return (
    <Text wrap="truncate-end">
      <Text color={focused ? palette.accent : undefined}>{marker}</Text>
      <Text color={focused ? palette.accent : palette.muted} bold={focused}>
        {pad(sanitize(fieldLabel(field)), LABEL - 1)}{' '}
      </Text>
      {shown}
      {/* The cursor, or a space in its place so the hints line up. */}
      <Text inverse={focused}> </Text>
      {' '.repeat(Math.max(1, valueWidth - textWidth(shown) - 1))}
      <Text color={palette.muted}>{sanitize(hint)}</Text>
    </Text>
  );
}

/** The choices matching the search, windowed around the highlighted one. */
function ChoiceList(props: { all: readonly Choice[]; form: DispatchForm; height: number; empty: string }) {
  const matched = matchChoices(props.all, props.form.query);
  if (matched.length === 0) return <Text color={palette.muted}>{`${' '.repeat(LABEL + 2)}${props.all.length === 0 ? props.empty : 'nothing matches'}`}</Text>;
  const pick = Math.max(0, Math.min(props.form.pick, matched.length - 1));
  const start = Math.max(0, Math.min(pick - Math.floor(props.height / 2), matched.length - props.height));
  return (
    <>
      {matched.slice(start, start + props.height).map((c, i) => (
        <Text key={`${c.kind}:${c.name}`} wrap="truncate-end" inverse={start + i === pick}>
          {' '.repeat(LABEL + 2)}
          {start + i === pick ? `${GLYPHS.selected} ` : '  '}
          {pad(c.kind === 'orchestration' ? 'orch' : 'agent', 6)}
          <Text bold>{sanitize(c.name)}</Text>
          <Text color={palette.muted}>{c.description !== '' ? `  ${sanitize(c.description)}` : ''}</Text>
        </Text>
      ))}
      {matched.length > props.height ? <Text color={palette.muted}>{`${' '.repeat(LABEL + 4)}${pick + 1}/${matched.length}`}</Text> : null}
    </>
  );
}
