// Resolution to the typed model: structure, contexts, values, inheritance, and every error path.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hasErrors } from '../../src/config/diagnostics.js';
import { loadConfigText, type LoadOptions } from '../../src/config/load.js';
import { brief, tempTree } from './helpers.js';

const root = tempTree({ 'h/echo.mjs': 'export default {};\n', 'lib/echo.so': 'x', 'token.txt': 'sekrit\n', 'empty.txt': '' });
const load = (text: string, options: LoadOptions = {}) => loadConfigText(text, join(root, 'w.conf'), { env: {}, ...options });
const errorsOf = (text: string, options: LoadOptions = {}) => brief(load(text, options).diagnostics);
const ws = (extra = '', path = '/echo') => `<Location ${path}>\nSetHandler websocket-handler\nWebSocketHandler h/echo.mjs\n${extra}</Location>\n`;

describe('Listen', () => {
  test('Apache forms, with an optional protocol', () => {
    const { config, diagnostics } = load('Listen 80\nListen 1.2.3.4:8080 http\nListen [::1]:9000\nListen localhost:81\nListen 127.0.0.1:0\nListen *:82\n');
    expect(diagnostics).toEqual([]);
    expect(config.listen.map((l) => [l.host, l.port, l.loc?.line])).toEqual([[undefined, 80, 1], ['1.2.3.4', 8080, 2], ['::1', 9000, 3], ['localhost', 81, 4], ['127.0.0.1', 0, 5], [undefined, 82, 6]]);
  });

  test('bad ports, bad brackets, duplicates and context', () => {
    expect(errorsOf('Listen 65536\nListen 1.2.3.4:99999\nListen [1.2.3.4]:80\nListen 80\nListen 80\n<VirtualHost *:80>\nListen 81\n</VirtualHost>\n')).toEqual([
      "1:8 error Listen expects [ADDRESS:]PORT (80, 1.2.3.4:80, [::1]:80) with a port up to 65535, not '65536'",
      "2:8 error Listen expects [ADDRESS:]PORT (80, 1.2.3.4:80, [::1]:80) with a port up to 65535, not '1.2.3.4:99999'",
      "3:8 error Listen: '1.2.3.4' in brackets is not an IPv6 address",
      `5:8 error Listen 80 is defined twice (first at line 4 of ${join(root, 'w.conf')}): Apache refuses multiple listeners on the same address`,
      '7:1 error Listen is not allowed in <VirtualHost>; it belongs in the main server config',
    ]);
  });
});

describe('Define, ${VAR} and conditions', () => {
  test('Define values, environment fallback, UnDefine, and warnings naming the use', () => {
    const { config, diagnostics } = load('Define PORT 8081\nListen ${PORT}\nListen ${FROM_ENV}\nUnDefine PORT\nServerName ${PORT}\n', { env: { FROM_ENV: '8082' } });
    expect(config.listen.map((l) => l.port)).toEqual([8081, 8082]);
    expect(config.mainServer.serverName).toBe('${PORT}');
    expect(brief(diagnostics)).toEqual([
      '5:12 warning variable ${PORT} is not defined (no Define before this line, not in the environment); the text is kept as is, as Apache does',
    ]);
  });

  test('a variable used before its Define is undefined there, as Apache reads in order', () => {
    expect(errorsOf('ServerName ${H}\nDefine H x\n')[0]).toMatch(/^1:12 warning variable \$\{H\} is not defined/);
  });

  test('an unquoted value with blanks becomes several arguments; a quoted one stays one', () => {
    const { config } = load('Define ALIASES "a.test b.test"\n<VirtualHost *:80>\nServerAlias ${ALIASES}\nServerName "${ALIASES}"\n</VirtualHost>\n');
    expect(config.virtualHosts[0]?.serverAliases).toEqual(['a.test', 'b.test']);
    expect(config.virtualHosts[0]?.serverName).toBe('a.test b.test');
  });

  test('IfDefine with Define and -D, negation, and model.defines', () => {
    const text = 'Define A\n<IfDefine A>\nListen 1\n</IfDefine>\n<IfDefine !A>\nListen 2\n</IfDefine>\n<IfDefine FROM_CLI>\nListen 3\n</IfDefine>\n<IfDefine !NOPE>\nListen 4\n</IfDefine>\n';
    const { config, diagnostics } = load(text, { defines: ['FROM_CLI'] });
    expect(diagnostics).toEqual([]);
    expect(config.listen.map((l) => l.port)).toEqual([1, 3, 4]);
    expect(config.defines).toEqual({ FROM_CLI: '', A: '' });
  });

  test('IfModule: wsgate providers, LoadModule lines before it, either spelling, negation', () => {
    const text = [
      '<IfModule mod_websocket.c>', 'Listen 1', '</IfModule>',
      '<IfModule websocket_draft76_module>', 'Listen 2', '</IfModule>',
      '<IfModule remoteip_module>', 'Listen 3', '</IfModule>',
      '<IfModule mod_ssl.c>', 'Listen 4', '</IfModule>',
      'LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so',
      '<IfModule mod_ssl.c>', 'Listen 5', '</IfModule>',
      '<IfModule !ssl_module>', 'Listen 6', '</IfModule>',
      'LoadModule mpm_event_module x.so',
      '<IfModule event.c>', 'Listen 7', '</IfModule>',
      'LoadModule ssl_module other.so',
    ].join('\n');
    const { config, diagnostics } = load(text);
    expect(config.listen.map((l) => l.port)).toEqual([1, 2, 3, 5, 7]);
    expect(config.loadedModules.map((m) => [m.name, m.path, m.loc.line])).toEqual([['ssl_module', '/usr/lib/apache2/modules/mod_ssl.so', 13], ['mpm_event_module', 'x.so', 20]]);
    expect(brief(diagnostics)).toEqual(['24:1 warning module ssl_module is already loaded, skipping (as Apache does)']);
  });

  test('directives inside a false condition are not checked (like Apache), syntax still is', () => {
    expect(errorsOf('<IfModule mod_nope.c>\nWebSocketHandlr x\nMaxMessageSize 64M\n</IfModule>\n')).toEqual([]);
    expect(errorsOf('<IfModule mod_nope.c>\n<Location /x>\n</IfModule>\n')).toEqual([
      '3:1 error expected </Location> (to close <Location> from line 2) but found </IfModule>',
    ]);
  });

  test('condition sections need an argument (extra ones are ignored, as Apache); Define names cannot hold a colon', () => {
    expect(errorsOf('<IfDefine>\n</IfDefine>\n<IfModule !>\n</IfModule>\n<IfModule mod_websocket.c extra>\nListen 1\n</IfModule>\nDefine a:b 1\n')).toEqual([
      '1:1 error <IfDefine> takes one argument: [!]NAME',
      '3:1 error <IfModule> takes one argument: [!]MODULE (mod_x.c or x_module)',
      '5:27 warning <IfModule> reads only its first argument; the rest is ignored (as Apache does)',
      "8:8 error Define: the name 'a:b' must not contain ':'",
    ]);
  });
});

describe('endpoints', () => {
  test('SetHandler + WebSocketHandler in Location, LocationMatch and Location ~ ; paths from ServerRoot', () => {
    const text = `${ws()}<LocationMatch "^/m/(a|b)$">\nSetHandler websocket-handler\nWebSocketHandler h/echo.mjs named\n</LocationMatch>\n<Location ~ "(?i)^/R">\nSetHandler websocket-handler\nWebSocketHandler lib/echo.so _echo_init@0\n</Location>\n<Location /w/*/x>\nSetHandler websocket-handler\nWebSocketHandler ${join(root, 'lib/echo.so')} init\n</Location>\n`;
    const { config, diagnostics } = load(text);
    expect(diagnostics).toEqual([]);
    const [a, b, c, d] = config.endpoints;
    expect(a?.match).toEqual({ kind: 'prefix', path: '/echo' });
    expect(a?.handler).toEqual({ kind: 'js', path: join(root, 'h/echo.mjs'), exportName: undefined, loc: { file: join(root, 'w.conf'), line: 3, column: 1 } });
    expect(b?.handler).toMatchObject({ kind: 'js', exportName: 'named' });
    expect(b?.match.kind === 'regex' && [b.match.regex.test('/m/a'), b.match.regex.test('/m/c')]).toEqual([true, false]);
    expect(c?.handler).toMatchObject({ kind: 'native', path: join(root, 'lib/echo.so'), init: '_echo_init@0' });
    expect(c?.match.kind === 'regex' && c.match.regex.test('/rest')).toBe(true);
    expect(d?.match.kind === 'regex' && [d.match.regex.test('/w/1/x'), d.match.regex.test('/w/1/2/x')]).toEqual([true, false]);
    expect(config.endpoints.every((e) => e.vhost === config.mainServer)).toBe(true);
  });

  test('defaults come from the schema; settings inherit server → vhost → Location', () => {
    const text = `MaxMessageSize 1000\nWebSocketTrustedOrigin https://a.test\n<VirtualHost *:80>\nWebSocketPingInterval 0\nWebSocketTrustedOrigin http://b.test:8080/\n${ws('MaxMessageSize 2000\nWebSocketOriginCheck Trusted\nWebSocketTrustedOrigin https://C.test\n')}</VirtualHost>\n${ws('', '/plain')}`;
    const { config, diagnostics } = load(text);
    expect(diagnostics).toEqual([]);
    expect(config.endpoints[0]?.settings).toEqual({
      maxMessageSize: 2000, supportDraft75: false, originCheck: 'trusted', trustedOrigins: ['https://a.test', 'http://b.test:8080', 'https://c.test'],
      maxConnections: 0, pingInterval: 0, handshakeTimeout: 10, closeTimeout: 5, sendQueueLimit: 16777216, allowReservedStatusCodes: false, connectionLog: true,
      compression: false, compressionThreshold: 1024, compressionContextTakeover: false, compressionWindowBits: 15,
    });
    expect(config.endpoints[1]?.settings).toMatchObject({ maxMessageSize: 1000, pingInterval: 30, trustedOrigins: ['https://a.test'], originCheck: 'same' });
  });

  test('a server-level setting after the Location still applies (Apache merges after reading)', () => {
    expect(load(`${ws()}WebSocketMaxConnections 7\n`).config.endpoints[0]?.settings.maxConnections).toBe(7);
  });

  test('handler / SetHandler pairing, missing files, native without init', () => {
    const text = '<Location /a>\nWebSocketHandler h/echo.mjs\n</Location>\n<Location /b>\nSetHandler websocket-handler\n</Location>\n<Location /c>\nSetHandler websocket-handler\nWebSocketHandler lib/missing.so init\n</Location>\n<Location /d>\nSetHandler websocket-handler\nWebSocketHandler lib/echo.so\n</Location>\n<Location /e>\nSetHandler websocket-handler\nSetHandler server-status\nWebSocketHandler h/echo.mjs\n</Location>\n';
    expect(errorsOf(text)).toEqual([
      '2:1 error WebSocketHandler without `SetHandler websocket-handler` in this <Location>: mod_websocket needs both',
      '5:1 error SetHandler websocket-handler without a WebSocketHandler in this <Location>: add `WebSocketHandler PATH INIT` or `WebSocketHandler PATH.js`',
      `9:18 error WebSocketHandler: ${join(root, 'lib/missing.so')} does not exist or is not a file`,
      '13:18 error WebSocketHandler lib/echo.so: a native plugin needs the name of its init function (WebSocketHandler PATH INIT, e.g. echo_init)',
      '18:1 error WebSocketHandler without `SetHandler websocket-handler` in this <Location>: mod_websocket needs both',
    ]);
  });

  test('WebSocket directives in sections wsgate cannot serve, and in the wrong context', () => {
    const text = '<Directory /var/www>\nSetHandler websocket-handler\nMaxMessageSize 10\nRequire all granted\nServerName x\n</Directory>\n<IfVersion >= 2.4>\nSupportDraft75 On\n</IfVersion>\nSetHandler websocket-handler\nWebSocketHandler h/echo.mjs\n<Location /x>\n<Location /y>\n</Location>\nWebSocketControlToken t\n</Location>\n';
    expect(errorsOf(text)).toEqual([
      '2:1 error SetHandler cannot be used inside <Directory>: wsgate routes requests by URL only, so it belongs in <Location>/<LocationMatch>',
      '3:1 error MaxMessageSize cannot be used inside <Directory>: wsgate routes requests by URL only, so it belongs in the main server config, <VirtualHost>, <Location>/<LocationMatch>',
      '5:1 error ServerName cannot be used inside <Directory>: it belongs in the main server config, <VirtualHost>',
      '8:1 error SupportDraft75 cannot be used inside <IfVersion>: wsgate does not evaluate <IfVersion>; move SupportDraft75 out of it',
      '10:1 error SetHandler is not allowed in the main server config; it belongs in <Location>/<LocationMatch>',
      '11:1 error WebSocketHandler is not allowed in the main server config; it belongs in <Location>/<LocationMatch>',
      '13:1 error <Location> cannot occur within <Location> section',
      '15:1 error WebSocketControlToken is not allowed in <Location>/<LocationMatch>; it belongs in the main server config',
    ]);
  });

  test('settings in a Location that is not an endpoint are a warning; Apache handlers are ignored', () => {
    const { config, diagnostics } = load('<Location /status>\nSetHandler server-status\nMaxMessageSize 5\n</Location>\n');
    expect(config.endpoints).toEqual([]);
    expect(brief(diagnostics)).toEqual(['1:1 warning WebSocket settings in a <Location> that is not a WebSocket endpoint (no SetHandler websocket-handler) have no effect']);
    expect(config.ignored.map((i) => i.name)).toEqual(['SetHandler']);
  });

  test('Location argument forms and regular expressions that do not compile', () => {
    expect(errorsOf('<Location>\n</Location>\n<Location ~>\n</Location>\n<LocationMatch a b>\n</LocationMatch>\n<LocationMatch "(">\n</LocationMatch>\n')).toEqual([
      '1:1 error <Location> takes <Location PATH> or <Location ~ REGEX>, got 0 arguments',
      '3:1 error <Location> takes <Location PATH> or <Location ~ REGEX>, got 1 argument',
      '5:1 error <LocationMatch> takes <LocationMatch REGEX>, got 2 arguments',
      "7:16 error regular expression '(' does not compile: missing closing parenthesis",
    ]);
  });

  test('PCRE-only regexes are translated; one wsgate cannot run is an error only in a WebSocket endpoint', () => {
    const text = [
      '<LocationMatch "(?i:^/WS)/[[:digit:]]++$">', 'SetHandler websocket-handler', 'WebSocketHandler h/echo.mjs', '</LocationMatch>',
      '<LocationMatch "^/static/(?|a|b)">', 'Require all granted', '</LocationMatch>',
      '<Location ~ "^/(?|x|y)">', 'SetHandler websocket-handler', 'WebSocketHandler h/echo.mjs', '</Location>',
      '<LocationMatch "a**">', '</LocationMatch>',
    ].join('\n');
    const { config, diagnostics } = load(text);
    const regex = config.endpoints[0]?.match.kind === 'regex' ? config.endpoints[0].match.regex : undefined;
    expect(['/ws/12', '/WS/3', '/ws/x'].map((p) => regex?.test(p))).toEqual([true, true, false]);
    expect(config.endpoints).toHaveLength(1);
    const cannot = "uses PCRE syntax wsgate cannot match with a JavaScript RegExp: branch reset groups (?|…)";
    expect(brief(diagnostics)).toEqual([
      `5:16 warning regular expression '^/static/(?|a|b)' ${cannot}; this <LocationMatch> is not a WebSocket endpoint, so wsgate ignores it`,
      `8:13 error regular expression '^/(?|x|y)' ${cannot}; rewrite it for this WebSocket endpoint`,
      "12:16 error regular expression 'a**' does not compile: quantifier does not follow a repeatable item",
    ]);
  });

  test('a misplaced <Location> or <VirtualHost> is one error; its body is checked as if in place, and serves nothing', () => {
    const text = [
      '<Location /a>', '<Location /b>', 'SetHandler websocket-handler', 'WebSocketHandler h/echo.mjs', 'MaxMessageSize 5', 'MaxMessageSize 64M', '</Location>', '</Location>',
      '<Directory /x>', '<Location /c>', 'SupportDraft75 On', '</Location>', '</Directory>',
      '<VirtualHost *:80>', '<VirtualHost *:81>', 'ServerName inner.test', '</VirtualHost>', '</VirtualHost>',
    ].join('\n');
    const { config, diagnostics } = load(text);
    expect(brief(diagnostics)).toEqual([
      '2:1 error <Location> cannot occur within <Location> section',
      "6:16 error MaxMessageSize takes a plain number of bytes, not '64M' (mod_websocket read '64M' as 64 bytes); write 67108864 for 64MiB",
      '10:1 error <Location> cannot occur within <Directory> section',
      '15:1 error <VirtualHost> cannot occur within <VirtualHost> section',
    ]);
    expect(config.endpoints).toEqual([]);
    expect(config.virtualHosts.map((v) => v.addresses)).toEqual([['*:80']]);
  });

  test('settings-only <Location> blocks with the same match merge in file order, as Apache merges sections', () => {
    const text = `<Location /echo>\nMaxMessageSize 100\nWebSocketPingInterval 3\n</Location>\n${ws('MaxMessageSize 200\n')}<Location /echo>\nWebSocketPingInterval 4\n</Location>\n<VirtualHost *:80>\n<Location /echo>\nWebSocketMaxConnections 9\n</Location>\n</VirtualHost>\n`;
    const { config, diagnostics } = load(text);
    expect(config.endpoints[0]?.settings).toMatchObject({ maxMessageSize: 200, pingInterval: 4, maxConnections: 0 });
    // The vhost's /echo is another server's Location: it has nothing to merge into.
    expect(brief(diagnostics)).toEqual(['14:1 warning WebSocket settings in a <Location> that is not a WebSocket endpoint (no SetHandler websocket-handler) have no effect']);
  });

  test('a TypeScript handler path is explained', () => {
    expect(errorsOf(ws().replace('h/echo.mjs', 'h/echo.ts'))).toEqual([
      '3:18 error WebSocketHandler h/echo.ts: compile TypeScript handlers to .js or .mjs and name that file',
      `3:18 error WebSocketHandler: ${join(root, 'h/echo.ts')} does not exist or is not a file`,
    ]);
  });

  test('Trusted origin check without origins warns', () => {
    expect(errorsOf(ws('WebSocketOriginCheck trusted\n'))).toEqual(['1:1 warning WebSocketOriginCheck Trusted with no WebSocketTrustedOrigin: every browser connection to this endpoint will be refused']);
  });
});

describe('values', () => {
  test('trusted origins are stored in the form handshakes compare against, other schemes included', () => {
    const { config, diagnostics } = load(`WebSocketOriginCheck Trusted\nWebSocketTrustedOrigin HTTPS://App.Example.com:443 http://b.test:80 chrome-extension://abcdefgh\n${ws()}`);
    expect(brief(diagnostics)).toEqual([]);
    expect(config.endpoints[0]?.settings.trustedOrigins).toEqual(['https://app.example.com', 'http://b.test', 'chrome-extension://abcdefgh']);
  });

  test('a control API off loopback needs a token, wherever the token line stands', () => {
    expect(errorsOf('WebSocketControlListen 0.0.0.0:9000\n')).toEqual([
      '1:1 error WebSocketControlListen 0.0.0.0:9000 is not a loopback address: set WebSocketControlToken (or WebSocketControlTokenFile) before exposing the control API',
    ]);
    expect(errorsOf('WebSocketControlListen [::]:9000\nWebSocketControlToken s3cret\n')).toEqual([]);
    expect(errorsOf('WebSocketControlListen 127.0.0.2:9000\nWebSocketControlListen 9001\n')).toEqual([]);
  });

  test('MaxMessageSize: unit suffixes explain the original reading, 0/negative/non-numeric refused', () => {
    expect(errorsOf('MaxMessageSize 64M\nMaxMessageSize 0\nMaxMessageSize -1\nMaxMessageSize lots\nMaxMessageSize 512k\nMaxMessageSize 67108864\n')).toEqual([
      "1:16 error MaxMessageSize takes a plain number of bytes, not '64M' (mod_websocket read '64M' as 64 bytes); write 67108864 for 64MiB",
      '2:16 error MaxMessageSize must be greater than 0',
      "3:16 error MaxMessageSize takes a whole number, not '-1' (negative values are not allowed)",
      "4:16 error MaxMessageSize takes a whole number, not 'lots'",
      "5:16 error MaxMessageSize takes a plain number of bytes, not '512k' (mod_websocket read '512k' as 512 bytes); write 524288 for 512KiB",
    ]);
  });

  test('On/Off, origin checks, origins, counts and seconds', () => {
    expect(errorsOf('SupportDraft75 yes\nWebSocketOriginCheck Maybe\nWebSocketTrustedOrigin https://ok.test https://x.test/path\nWebSocketMaxConnections -3\nWebSocketHandshakeTimeout 0\nWebSocketSendQueueLimit 16M\n')).toEqual([
      "1:16 error SupportDraft75 must be On or Off, not 'yes'",
      "2:22 error WebSocketOriginCheck must be Same, Trusted or Off, not 'Maybe'",
      "3:40 error 'https://x.test/path' is not an origin: write scheme://host[:port] with no path, e.g. https://example.com",
      "4:25 error WebSocketMaxConnections takes a whole number, not '-3' (negative values are not allowed)",
      '5:27 error WebSocketHandshakeTimeout must be at least 1 second',
      "6:25 error WebSocketSendQueueLimit takes a plain number of bytes, not '16M'; write 16777216 for 16MiB",
    ]);
  });

  test('argument counts say what was expected; a trailing # comment gets a hint', () => {
    expect(errorsOf('MaxMessageSize\nSupportDraft75 On # draft-75 too\nWebSocketControlSocket a b c\nWebSocketTrustedOrigin\n')).toEqual([
      '1:1 error MaxMessageSize takes one argument (MaxMessageSize BYTES), got 0',
      "2:1 error SupportDraft75 takes one argument (SupportDraft75 On|Off), got 4 ('#' starts a comment only at the beginning of a line, as in Apache)",
      '3:1 error WebSocketControlSocket takes 1 to 2 arguments (WebSocketControlSocket PATH [MODE]), got 3',
      '4:1 error WebSocketTrustedOrigin takes at least one argument (WebSocketTrustedOrigin ORIGIN...), got 0',
    ]);
  });

  test('a trailing # comment on a list directive is explained too', () => {
    expect(errorsOf('WebSocketTrustedOrigin https://a.test # our site\n')).toEqual([
      "1:39 error '#' is not an origin: write scheme://host[:port] with no path, e.g. https://example.com ('#' starts a comment only at the beginning of a line, as in Apache)",
    ]);
  });

  test('LogLevel maps Apache levels to pino and takes the first bare level', () => {
    const level = (args: string) => load(`LogLevel ${args}\n`).config.logLevel;
    expect([level('crit'), level('notice'), level('trace5'), level('ssl:warn debug'), level('ssl:debug')]).toEqual(['fatal', 'info', 'trace', 'debug', 'info']);
    expect(load('').config.logLevel).toBe('info');
    expect(errorsOf('LogLevel loud\n<VirtualHost *:80>\nLogLevel debug\n</VirtualHost>\n')).toEqual([
      "1:10 error 'loud' is not an Apache log level (emerg, alert, crit, error, warn, notice, info, debug, trace1…trace8)",
    ]);
  });

  test('control channel and remote IP', () => {
    const { config, diagnostics } = load('WebSocketControlSocket run/ctl.sock 0600\nWebSocketControlListen 9001\nWebSocketControlTokenFile token.txt\nRemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.0/8 ::1\nRemoteIPTrustedProxy 192.168.1.1\n');
    expect(diagnostics).toEqual([]);
    expect(config.control).toEqual({
      socket: { path: join(root, 'run/ctl.sock'), mode: 0o600, loc: { file: join(root, 'w.conf'), line: 1, column: 1 } },
      listen: { host: '127.0.0.1', port: 9001, loc: { file: join(root, 'w.conf'), line: 2, column: 1 } },
      token: 'sekrit',
    });
    expect(config.remoteIp).toEqual({ header: 'X-Forwarded-For', trustedProxies: ['10.0.0.0/8', '::1', '192.168.1.1'] });
    expect(load('WebSocketControlSocket s\n').config.control.socket?.mode).toBe(0o660);
  });

  test('mod_remoteip directives in a <VirtualHost> apply to all hosts, with a warning at each line', () => {
    const text = 'RemoteIPHeader X-Forwarded-For\n<VirtualHost *:80>\nRemoteIPHeader x-forwarded-for\nRemoteIPInternalProxy 10.0.0.0/8\nRemoteIPTrustedProxy 192.168.0.1\n</VirtualHost>\nRemoteIPTrustedProxy ::1\n';
    const { config, diagnostics } = load(text);
    const serverWide = 'in <VirtualHost>: wsgate applies it to all virtual hosts (client-address trust is server-wide)';
    expect(brief(diagnostics)).toEqual([
      `3:1 warning RemoteIPHeader ${serverWide}`,
      `4:1 warning RemoteIPInternalProxy ${serverWide}`,
      `5:1 warning RemoteIPTrustedProxy ${serverWide}`,
    ]);
    expect(config.remoteIp).toEqual({ header: 'x-forwarded-for', trustedProxies: ['10.0.0.0/8', '192.168.0.1', '::1'] });
    expect(load('RemoteIPHeader A\nRemoteIPHeader B\n')).toMatchObject({ diagnostics: [], config: { remoteIp: { header: 'B' } } });
  });

  test('different RemoteIPHeader values across hosts cannot all be honoured; in a <Location> it is refused, as Apache does', () => {
    const text = '<VirtualHost *:80>\nRemoteIPHeader X-Forwarded-For\n</VirtualHost>\n<VirtualHost *:81>\nRemoteIPHeader X-Real-IP\n</VirtualHost>\nRemoteIPHeader X-Client-IP\n<Location /x>\nRemoteIPHeader X\n</Location>\n';
    const conflict = (header: string) => `RemoteIPHeader ${header} conflicts with RemoteIPHeader X-Forwarded-For (line 2 of ${join(root, 'w.conf')}): wsgate reads one header for all virtual hosts`;
    expect(errorsOf(text).filter((d) => !d.includes('warning'))).toEqual([
      `5:16 error ${conflict('X-Real-IP')}`,
      `7:16 error ${conflict('X-Client-IP')}`,
      '9:1 error RemoteIPHeader is not allowed in <Location>/<LocationMatch>; it belongs in the main server config, <VirtualHost>',
    ]);
  });

  test('control and remote IP errors', () => {
    expect(errorsOf('WebSocketControlSocket s 999\nWebSocketControlTokenFile nope.txt\nWebSocketControlTokenFile empty.txt\nRemoteIPInternalProxy 10.0.0.0/33 example.com\n')).toEqual([
      "1:26 error WebSocketControlSocket MODE must be octal like 0660, not '999'",
      `2:27 error WebSocketControlTokenFile: cannot read ${join(root, 'nope.txt')}: ENOENT`,
      `3:27 error WebSocketControlTokenFile: ${join(root, 'empty.txt')} is empty`,
      "4:23 error '10.0.0.0/33' is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)",
    ]);
  });
});

describe('names', () => {
  test('misspelt wsgate directives get a suggestion; Apache directives are ignored and recorded', () => {
    const { config, diagnostics } = load('WebSocketHandlr x y\nMaxMesageSize 5\nwebsocketfoo 1\nDocumentRoot /var/www\nErrorLog x.log\nAddHandler cgi-script .cgi\nmaxmessagesize 100\n');
    expect(brief(diagnostics)).toEqual([
      '1:1 error unknown directive WebSocketHandlr (not a mod_websocket or wsgate directive); did you mean WebSocketHandler?',
      '2:1 error unknown directive MaxMesageSize; did you mean MaxMessageSize?',
      '3:1 error unknown directive websocketfoo (not a mod_websocket or wsgate directive)',
    ]);
    expect(config.ignored.map((i) => `${i.name}@${i.loc.line}`)).toEqual(['DocumentRoot@4', 'ErrorLog@5', 'AddHandler@6']);
  });

  test('VirtualHost: names, aliases, SSLEngine, nesting and arguments', () => {
    const { config, diagnostics } = load('ServerName main.test\n<VirtualHost 127.0.0.1:8080 [::1]:8080>\nServerName a.test\nServerAlias b.test\nServerAlias c.test d.test\nSSLEngine On\n</VirtualHost>\n');
    expect(diagnostics).toEqual([]);
    expect(config.mainServer).toMatchObject({ serverName: 'main.test', isMain: true });
    expect(config.virtualHosts).toEqual([
      { addresses: ['127.0.0.1:8080', '[::1]:8080'], serverName: 'a.test', serverAliases: ['b.test', 'c.test', 'd.test'], isMain: false, tls: true, loc: { file: join(root, 'w.conf'), line: 2, column: 1 } },
    ]);
    expect(errorsOf('<VirtualHost>\n<VirtualHost *:80>\n</VirtualHost>\n</VirtualHost>\nServerAlias x\nSSLEngine maybe\n')).toEqual([
      '1:1 error <VirtualHost> needs at least one address, e.g. <VirtualHost *:80>',
      '2:1 error <VirtualHost> cannot occur within <VirtualHost> section',
      '5:1 error ServerAlias is not allowed in the main server config; it belongs in <VirtualHost>',
      "6:11 error SSLEngine must be On, Off or Optional, not 'maybe'",
    ]);
  });

  test('a clean config has no errors and ServerRoot moves relative paths', () => {
    const { config, diagnostics } = load(`ServerRoot ${join(root, 'h')}\n<Location /x>\nSetHandler websocket-handler\nWebSocketHandler echo.mjs\n</Location>\nServerRoot nowhere\n`);
    expect(hasErrors(diagnostics)).toBe(true);
    expect(brief(diagnostics)).toEqual([`6:12 error ServerRoot must be a valid directory: ${join(root, 'nowhere')} is not one`]);
    expect(config.serverRoot).toBe(join(root, 'h'));
    expect(config.endpoints[0]?.handler.path).toBe(join(root, 'h', 'echo.mjs'));
  });
});
