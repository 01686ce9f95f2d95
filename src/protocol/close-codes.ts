// Close codes of RFC 6455 §7.4 and what may appear in a close frame on the wire.

export enum CloseCode {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  Unsupported = 1003,
  /** Reserved by RFC 6455; hybi-07/08 used it for "message too big". */
  TooLargeDraft = 1004,
  /** Never on the wire: "the close frame had no code". */
  NoStatus = 1005,
  /** Never on the wire: "the connection dropped without a close frame". */
  Abnormal = 1006,
  InvalidPayload = 1007,
  PolicyViolation = 1008,
  MessageTooBig = 1009,
  MandatoryExtension = 1010,
  InternalError = 1011,
  ServiceRestart = 1012,
  TryAgainLater = 1013,
  BadGateway = 1014,
  /** Never on the wire: TLS handshake failure. */
  TlsHandshake = 1015,
}

/** True for a code an endpoint may send or accept in a close frame: 1000-1003, 1007-1014
 *  (1012-1014 are IANA-registered after the RFC), and 3000-4999 (libraries, applications). */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

/** False for what RFC 6455 §7.4 says must never be in a close frame: 1005, 1006, 1015 (they
 *  describe the absence of a code or of a close frame) and anything outside 1000-4999. */
export function mayAppearOnWire(code: number): boolean {
  return Number.isInteger(code) && code >= 1000 && code <= 4999 && code !== CloseCode.NoStatus && code !== CloseCode.Abnormal && code !== CloseCode.TlsHandshake;
}

export interface PeerCloseCodeRules {
  /** WebSocketAllowReservedStatusCodes: also accept the unassigned codes of 1000-2999 (1004, 1016…),
   *  as the maintained mod_websocket fork can, for peers that use them. */
  allowReserved: boolean;
  /** A hybi-07/08 peer: 1004 is its drafts' "message too big". */
  draftTooBig: boolean;
}

/** Whether a peer's close frame may carry `code`; one that may not fails the connection with 1002. */
export function acceptsPeerCloseCode(code: number, rules: PeerCloseCodeRules): boolean {
  if (isValidCloseCode(code)) return true;
  if (!mayAppearOnWire(code)) return false;
  if (code === CloseCode.TooLargeDraft && rules.draftTooBig) return true;
  return rules.allowReserved && code <= 2999;
}
