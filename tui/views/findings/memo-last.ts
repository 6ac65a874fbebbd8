/**
 * `compute` memoised on the identity of its inputs, one entry: a view's render and a key handled before the next
 * render ask with the same inputs, so a 5,000-finding feed is filtered once, not once per call.
 */
export function memoLast<I extends readonly unknown[], R>(compute: (...inputs: I) => R): (...inputs: I) => R {
  let last: { inputs: I; value: R } | undefined;
  return (...inputs) => {
    if (last !== undefined && last.inputs.length === inputs.length && last.inputs.every((v, i) => Object.is(v, inputs[i]))) return last.value;
    const value = compute(...inputs);
    last = { inputs, value };
    return value;
  };
}
