// The sans-I/O protocol layer: handshakes (RFC 6455 13/8/7, hixie-76/75), frame codecs,
// UTF-8 validation and close codes. No sockets, no timers.
export * from './types.js';
export {
  detectHandshake,
  offeredProtocols,
  requestOrigin,
  headerValue,
  handshakeErrorResponse,
  SUPPORTED_VERSIONS,
  SUPPORTED_VERSIONS_HEADER,
  type HandshakeRequest,
  type HandshakeKind,
} from './handshake.js';
export { validateHybiKey, hybiAcceptKey, hybiResponse } from './handshake-hybi.js';
export {
  hixie76Answer,
  hixie76AnswerFromParts,
  hixie76KeyParts,
  hixieResponse,
  hixieResponseHead,
  type HixieResponseOptions,
} from './handshake-hixie.js';
export { errorResponse, reasonPhrase, type HeaderList } from './http-head.js';
export { createHybiDecoder } from './hybi-decoder.js';
export { hybiEncoder, closePayload, truncateUtf8, encodeDeflatedMessage, countDataFrames } from './hybi-encoder.js';
export {
  negotiatePerMessageDeflate,
  parseExtensionOffers,
  deflateWindowBits,
  DEFLATE_TAIL,
  type DeflateAgreement,
  type DeflateParams,
  type DeflatePolicy,
  type ExtensionOffer,
} from './permessage-deflate.js';
export { createHixieDecoder } from './hixie-decoder.js';
export { hixieEncoder } from './hixie-encoder.js';
export { isValidCloseCode, CloseCode } from './close-codes.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
