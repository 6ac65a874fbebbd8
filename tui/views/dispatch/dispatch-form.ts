import { isPrintable } from '../../keys/key-name.js';
import { defaultText, fieldKey, formFields, matchChoices, type Choice, type Field } from './dispatch-rows.js';

/**
 * The dispatch form's transient state (local to the view: it is input being typed, not console state): the search
 * text of the "what" field and the highlighted choice, the focused field, and every field's text by `fieldKey`.
 */
export interface DispatchForm {
  query: string;
  pick: number;
  focus: number;
  /** `kind:name` of the choice `values` were filled for. */
  chosen: string | undefined;
  values: Readonly<Record<string, string>>;
}

/** An empty form; `targets` prefilled (the host the view was opened for). */
export function initialForm(all: readonly Choice[], targets: string | undefined): DispatchForm {
  return withChoice({ query: '', pick: 0, focus: 0, chosen: undefined, values: { targets: targets ?? '' } }, all);
}

/** The highlighted choice: the `pick`-th of those matching the search. */
export function formChoice(form: DispatchForm, all: readonly Choice[]): Choice | undefined {
  const matched = matchChoices(all, form.query);
  return matched[Math.max(0, Math.min(form.pick, matched.length - 1))];
}

/** The form's fields for its choice, and the focused one. */
export function focusedField(form: DispatchForm, all: readonly Choice[]): { fields: Field[]; field: Field } {
  const fields = formFields(formChoice(form, all));
  return { fields, field: fields[Math.min(form.focus, fields.length - 1)]! };
}

/**
 * The form with its values filled for the highlighted choice: when it changed (a key, or the library loaded after
 * the view opened), the choice's inputs start at their defaults (targets, prompt and free inputs stay).
 */
export function withChoice(form: DispatchForm, all: readonly Choice[]): DispatchForm {
  const choice = formChoice(form, all);
  const id = choice === undefined ? undefined : `${choice.kind}:${choice.name}`;
  if (id === form.chosen) return form;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(form.values)) if (!k.startsWith('input:')) values[k] = v;
  if (choice?.kind === 'agent') for (const input of choice.agent.inputs) values[`input:${input.name}`] = defaultText(input);
  return { ...form, chosen: id, values };
}

/** What a key did to the form: the new form, and whether it asks to run it or to leave the view. */
export interface FormStep {
  form: DispatchForm;
  submit?: boolean;
  back?: boolean;
}

/**
 * One key on the form (names as in key-name.ts). tab / shift+tab (and down / up outside the "what" field) move the
 * focus; on "what", up / down move the highlighted choice, typing searches, enter moves on; in a text field typing
 * edits (backspace, ctrl+u clears); enter elsewhere submits; esc leaves.
 */
export function formKey(given: DispatchForm, all: readonly Choice[], name: string): FormStep {
  const form = withChoice(given, all);
  const { fields, field } = focusedField(form, all);
  const move = (by: number): FormStep => ({ form: { ...form, focus: (Math.min(form.focus, fields.length - 1) + by + fields.length) % fields.length } });
  if (name === 'esc') return { form, back: true };
  if (name === 'tab') return move(1);
  if (name === 'shift+tab') return move(-1);
  if (field.id === 'what') {
    const count = matchChoices(all, form.query).length;
    const pick = (to: number): FormStep => ({ form: withChoice({ ...form, pick: Math.max(0, Math.min(to, count - 1)) }, all) });
    if (name === 'down') return pick(form.pick + 1);
    if (name === 'up') return pick(form.pick - 1);
    if (name === 'enter') return fields.length > 1 ? move(1) : { form };
    const query = editText(form.query, name);
    return query === undefined ? { form } : { form: withChoice({ ...form, query, pick: 0 }, all) };
  }
  if (name === 'down') return move(1);
  if (name === 'up') return move(-1);
  if (name === 'enter') return { form, submit: true };
  if (field.id === 'run') return { form };
  const key = fieldKey(field);
  const text = editText(form.values[key] ?? '', name);
  return text === undefined ? { form } : { form: { ...form, values: { ...form.values, [key]: text } } };
}

/** `text` after a key: a printable character appended, backspace, ctrl+u clears; undefined for any other key. */
function editText(text: string, name: string): string | undefined {
  if (name === 'backspace' || name === 'delete') return [...text].slice(0, -1).join('');
  if (name === 'ctrl+u') return '';
  return isPrintable(name) ? text + name : undefined;
}
