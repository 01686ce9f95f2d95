// Placeholder until handler validation lands; replaced by its owner.
import type { Diagnostic, GatewayConfig } from '../config/model.js';

export async function validateHandlers(_config: GatewayConfig): Promise<Diagnostic[]> {
  return [];
}
