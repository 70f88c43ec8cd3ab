import { describe, expect, it, vi } from 'vitest';
import { applyParts, PreviewStore } from '../src/preview.js';

describe('the preview of the message being generated', () => {
  it('appends text, reasoning and tool-call arguments in order', () => {
    let preview = applyParts(undefined, 1, 0, [{ type: 'REASONING', text: 'Think' }, { type: 'TEXT', text: 'Hel' }]);
    preview = applyParts(preview, 1, 1, [{ type: 'TEXT', text: 'lo' }, { type: 'TOOL_CALL', toolCallId: 't1', toolName: 'grep', argsDelta: '{"q":' }]);
    preview = applyParts(preview, 1, 2, [{ type: 'TOOL_CALL', toolCallId: 't1', argsDelta: '"x"}' }, { type: 'REASONING', text: 'ing' }]);
    expect(preview).toEqual({ attempt: 1, seq: 2, text: 'Hello', reasoning: 'Thinking', toolCalls: [{ toolCallId: 't1', toolName: 'grep', args: '{"q":"x"}' }] });
  });

  it('ignores a batch already applied and batches of an older attempt; a newer attempt starts over', () => {
    const first = applyParts(undefined, 1, 0, [{ type: 'TEXT', text: 'a' }]);
    expect(applyParts(first, 1, 0, [{ type: 'TEXT', text: 'a' }])).toBe(first);
    const second = applyParts(first, 2, 0, [{ type: 'TEXT', text: 'b' }]);
    expect(second).toMatchObject({ attempt: 2, text: 'b' });
    expect(applyParts(second, 1, 5, [{ type: 'TEXT', text: 'late' }])).toBe(second);
  });

  it('the store notifies on change and drops a preview on reset or when the message arrives', () => {
    const store = new PreviewStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.part('c', 1, 0, [{ type: 'TEXT', text: 'x' }]);
    store.part('c', 1, 0, [{ type: 'TEXT', text: 'x' }]);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.get('c')?.text).toBe('x');
    store.drop('c');
    expect(store.get('c')).toBeUndefined();
    expect(listener).toHaveBeenCalledTimes(2);
    store.drop('c');
    expect(listener).toHaveBeenCalledTimes(2);
  });
});
