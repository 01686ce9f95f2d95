// Layering per-endpoint settings: server → <VirtualHost> → <Location> blocks, later layers win,
// list settings (append in the schema) add to what they inherit.
import type { EndpointSettings } from './model.js';
import { endpointDirectives } from './schema.js';

export type Overrides = Partial<EndpointSettings>;

export function combine(append: boolean, before: unknown, value: unknown): unknown {
  return append && Array.isArray(before) && Array.isArray(value) ? [...before, ...value] : value;
}

export function mergeSettings(settings: EndpointSettings, layer: Overrides): void {
  const target = settings as unknown as Record<string, unknown>;
  for (const d of Object.values(endpointDirectives)) {
    const value: unknown = layer[d.field];
    if (value === undefined) continue;
    target[d.field] = combine(d.append, target[d.field], value);
  }
}
