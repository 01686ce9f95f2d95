// permessage-deflate (RFC 7692) negotiation: read a client's Sec-WebSocket-Extensions offers,
// pick the first one this server can accept, and write the response element. Pure functions:
// the compression itself is the server's business (server/zlib-work.ts).
//
// Decisions:
// - A syntactically broken header, or an offer with an unknown parameter, a repeated parameter or
//   a bad value, is declined (RFC 7692 §5: "MUST decline"), not answered with 400: the connection
//   then runs uncompressed, which every client must accept.
// - Without context takeover (the default answer) a message's compression depends on nothing but
//   its bytes and the window size: no zlib state outlives a message, idle connections cost nothing,
//   and a broadcast is compressed once for every receiver with the same window.
// - server_max_window_bits=8 is accepted: zlib cannot deflate raw streams with an 8-bit window
//   and uses 9 (deflateWindowBits), whose output never refers further back than 250 bytes (zlib
//   keeps 262 bytes of lookahead out of the window), so an 8-bit inflater reads it.

export const EXTENSION_NAME = 'permessage-deflate';

/** One extension element of a Sec-WebSocket-Extensions header: name and parameters (values unquoted; true when absent). */
export interface ExtensionOffer {
  name: string;
  params: Array<[string, string | true]>;
}

/** What this server is willing to do (from WebSocketCompression… settings). */
export interface DeflatePolicy {
  /** Keep LZ77 context from message to message when the client allows it (costs memory per connection). */
  contextTakeover: boolean;
  /** Largest window (9–15) either side may use. */
  maxWindowBits: number;
}

/** The agreed parameters. Window bits are what each side may use; 15 when not limited. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export interface DeflateAgreement {
  params: DeflateParams;
  /** The Sec-WebSocket-Extensions value of the 101 answer. */
  response: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Splits at `separator` outside quoted strings; undefined when a quote is not closed. */
function splitOutsideQuotes(text: string, separator: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return undefined;
  parts.push(text.slice(start));
  return parts;
}

/** A parameter value: a token, or a quoted string whose content is unescaped. undefined when neither. */
function paramValue(raw: string): string | undefined {
  if (TOKEN.test(raw)) return raw;
  if (raw.length < 2 || !raw.startsWith('"') || !raw.endsWith('"')) return undefined;
  return raw.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** The elements of a Sec-WebSocket-Extensions value (RFC 6455 §9.1), or undefined when it is not one. */
export function parseExtensionOffers(header: string): ExtensionOffer[] | undefined {
  const elements = splitOutsideQuotes(header, ',');
  if (elements === undefined) return undefined;
  const offers: ExtensionOffer[] = [];
  for (const element of elements) {
    if (element.trim() === '') continue; // RFC 7230 #rule: empty elements are allowed and ignored
    const parts = splitOutsideQuotes(element, ';')!;
    const name = parts[0]!.trim();
    if (!TOKEN.test(name)) return undefined;
    const params: Array<[string, string | true]> = [];
    for (const part of parts.slice(1)) {
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (!TOKEN.test(key)) return undefined;
      if (eq < 0) {
        params.push([key.toLowerCase(), true]);
        continue;
      }
      const value = paramValue(part.slice(eq + 1).trim());
      if (value === undefined) return undefined;
      params.push([key.toLowerCase(), value]);
    }
    offers.push({ name: name.toLowerCase(), params });
  }
  return offers;
}

/** RFC 7692 §7.1.2: 1*DIGIT in 8..15 without a leading zero. */
function windowBits(value: string | true): number | undefined {
  if (value === true || !/^[1-9][0-9]?$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 8 && n <= 15 ? n : undefined;
}

interface OfferedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined: not offered. */
  serverMaxWindowBits: number | undefined;
  /** undefined: not offered; true: offered without a value (the client can limit its window). */
  clientMaxWindowBits: number | true | undefined;
}

/** The parameters of one permessage-deflate offer; undefined when RFC 7692 says to decline it. */
function readOffer(offer: ExtensionOffer): OfferedParams | undefined {
  const out: OfferedParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };
  const seen = new Set<string>();
  for (const [key, value] of offer.params) {
    if (seen.has(key)) return undefined;
    seen.add(key);
    switch (key) {
      case 'server_no_context_takeover':
        if (value !== true) return undefined;
        out.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return undefined;
        out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = windowBits(value);
        if (bits === undefined) return undefined;
        out.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === true) {
          out.clientMaxWindowBits = true;
          break;
        }
        const bits = windowBits(value);
        if (bits === undefined) return undefined;
        out.clientMaxWindowBits = bits;
        break;
      }
      default:
        return undefined;
    }
  }
  return out;
}

/** Accepts one offer under `policy`: the parameters and the response element. */
function accept(offered: OfferedParams, policy: DeflatePolicy): DeflateAgreement {
  const limit = Math.min(15, Math.max(9, policy.maxWindowBits));
  const params: DeflateParams = {
    // The server may always give up its own context; it must when the client asked.
    serverNoContextTakeover: offered.serverNoContextTakeover || !policy.contextTakeover,
    // The server may always ask the client to give up its context (§7.1.1.2).
    clientNoContextTakeover: offered.clientNoContextTakeover || !policy.contextTakeover,
    serverMaxWindowBits: Math.min(limit, offered.serverMaxWindowBits ?? 15),
    clientMaxWindowBits: 15,
  };
  const response = [EXTENSION_NAME];
  if (params.serverNoContextTakeover) response.push('server_no_context_takeover');
  if (params.clientNoContextTakeover) response.push('client_no_context_takeover');
  // Must answer an offered server_max_window_bits (same or smaller); may add one to limit ourselves.
  if (offered.serverMaxWindowBits !== undefined || params.serverMaxWindowBits < 15) {
    response.push(`server_max_window_bits=${params.serverMaxWindowBits}`);
  }
  // client_max_window_bits may only be answered when offered, with at most the offered value.
  if (offered.clientMaxWindowBits !== undefined) {
    const clientLimit = Math.min(limit, offered.clientMaxWindowBits === true ? 15 : offered.clientMaxWindowBits);
    params.clientMaxWindowBits = clientLimit;
    if (clientLimit < 15 || offered.clientMaxWindowBits !== true) response.push(`client_max_window_bits=${clientLimit}`);
  }
  return { params, response: response.join('; ') };
}

/** The first permessage-deflate offer of the Sec-WebSocket-Extensions value that can be accepted
 *  (RFC 7692 §5: offers are in the client's order of preference), or undefined: no compression. */
export function negotiatePerMessageDeflate(header: string, policy: DeflatePolicy): DeflateAgreement | undefined {
  if (header === '') return undefined;
  const offers = parseExtensionOffers(header);
  if (offers === undefined) return undefined;
  for (const offer of offers) {
    if (offer.name !== EXTENSION_NAME) continue;
    const offered = readOffer(offer);
    if (offered !== undefined) return accept(offered, policy);
  }
  return undefined;
}

/** zlib cannot make raw deflate streams with an 8-bit window; 9 bits stay within 8 (see top). */
export function deflateWindowBits(maxWindowBits: number): number {
  return Math.max(9, maxWindowBits);
}

/** RFC 7692 §7.2.1: the sender removes these 4 bytes (an empty stored block's tail) from the end
 *  of a message's compressed data; the receiver appends them before inflating. */
export const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
