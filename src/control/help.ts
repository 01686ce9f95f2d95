// The text of HELP on the control socket (one line per command).
export const helpLines: string[] = [
  'LIST [WEBSOCKETS] [/LOCATION] [@GROUP]    OK n, then n lines: ID HOST:PORT',
  'LIST DETAILS [/LOCATION] [@GROUP]         OK n, then n lines: one JSON object per connection',
  'INFO ID                                   OK 1, then one JSON line',
  'SEND MESSAGE ID TEXT                      text frame; TEXT is the rest of the line',
  'SENDT ID LENGTH  + LENGTH bytes           text frame from raw UTF-8 bytes (newlines allowed)',
  'SENDB ID LENGTH  + LENGTH bytes           binary frame from raw bytes',
  'BROADCAST [/LOCATION] TEXT                text frame to every connection (of LOCATION); OK SENT n',
  'BROADCASTT [/LOCATION] [@GROUP] LENGTH    text frame from raw bytes to many',
  'BROADCASTB [/LOCATION] [@GROUP] LENGTH    binary frame from raw bytes to many',
  'CLOSE ID [CODE [REASON]]                  start the close handshake',
  'JOIN ID GROUP | LEAVE ID GROUP            group membership',
  'PING | HELP | QUIT',
  'Every command gets one status line, OK ... or ERR CODE message; OK n after LIST, INFO and HELP',
  'is followed by exactly n lines. IDs with spaces, % or control characters are percent-encoded.',
];
