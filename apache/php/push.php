<?php
// Push to browsers connected to wsgate, from PHP, through the gateway's control socket
// (WebSocketControlSocket PATH). Include this file from your application, or run it:
//
//     php push.php /run/wsgate/control.sock ID MESSAGE
//
// The web server's user needs read+write access to the socket file: give it the socket's group,
// or put the socket in a directory only that user and wsgate can enter.
//
// Protocol (see `echo HELP | socat - UNIX-CONNECT:PATH`): one command per request, answered by one
// status line, "OK ..." or "ERR CODE message"; LIST/INFO/HELP's "OK n" is followed by n lines and
// "END". Messages go length-delimited (SENDT/SENDB ID LENGTH, then exactly LENGTH raw bytes), so
// newlines and binary data need no escaping. Ids, groups and Locations are percent-encoded words.

declare(strict_types=1);

final class WsgateException extends RuntimeException
{
}

/** Opens the control socket. Reuse the handle for many commands; they are answered in order. */
function wsgate_connect(string $socketPath, float $timeout = 5.0)
{
    $errno = 0;
    $errstr = '';
    $fp = @fsockopen('unix://' . $socketPath, -1, $errno, $errstr, $timeout);
    if ($fp === false) {
        throw new WsgateException("cannot connect to $socketPath: $errstr");
    }
    stream_set_timeout($fp, (int) ceil($timeout));
    return $fp;
}

/** Sends one request and returns its status line ("OK ..."); throws on "ERR ...". */
function wsgate_request($fp, string $head, ?string $payload = null): string
{
    $request = $payload === null ? "$head\n" : "$head " . strlen($payload) . "\n" . $payload;
    for ($written = 0; $written < strlen($request); $written += $n) {
        $n = fwrite($fp, substr($request, $written));
        if ($n === false || $n === 0) {
            throw new WsgateException('cannot write to the control socket');
        }
    }
    $status = fgets($fp);
    if ($status === false) {
        throw new WsgateException('no answer from the control socket');
    }
    $status = rtrim($status, "\r\n");
    if (strncmp($status, 'OK', 2) !== 0) {
        throw new WsgateException($status);
    }
    return $status;
}

/** An id, group or Location as one word of a command: spaces, '%', control and non-ASCII bytes
 *  percent-encoded (rawurlencode would do too, but this keeps '/board' readable in logs). */
function wsgate_word(string $value): string
{
    return preg_replace_callback('/[^\x21-\x24\x26-\x7e]/', fn (array $m): string => rawurlencode($m[0]), $value);
}

function wsgate_id(string $id): string
{
    return wsgate_word($id);
}

/** " LOCATION @GROUP" for LIST/BROADCASTT/BROADCASTB. A Location is a path ('/board') or a
 *  <LocationMatch> regex as written in the config ('^/rooms/[0-9]+$'). */
function wsgate_filter(?string $location, ?string $group = null): string
{
    $words = '';
    if ($location !== null) {
        $words .= ' ' . preg_replace('/^@/', '%40', wsgate_word($location)); // '@' would mean a group
    }
    if ($group !== null) {
        $words .= ' @' . wsgate_word($group);
    }
    return $words;
}

/** Reads the lines after "OK n" (LIST, INFO, HELP): n data lines, then "END". */
function wsgate_read_block($fp, string $status): array
{
    $count = (int) substr($status, 3);
    $lines = [];
    for ($i = 0; $i <= $count; $i++) {
        $line = fgets($fp);
        if ($line === false) {
            throw new WsgateException('the answer ended early');
        }
        $lines[] = rtrim($line, "\r\n");
    }
    if (array_pop($lines) !== 'END') {
        throw new WsgateException('the answer did not end with END: out of step with the control socket');
    }
    return $lines;
}

/** Sends $message to the connection $id: a text frame (must be UTF-8), or binary when $binary. */
function wsgate_send(string $socketPath, string $id, string $message, bool $binary = false): void
{
    $fp = wsgate_connect($socketPath);
    try {
        wsgate_request($fp, ($binary ? 'SENDB ' : 'SENDT ') . wsgate_id($id), $message);
    } finally {
        fclose($fp);
    }
}

/** Sends $message to every connection, or to those of one Location ('/board') and/or group.
 *  Returns how many. */
function wsgate_broadcast(string $socketPath, string $message, ?string $location = null, bool $binary = false, ?string $group = null): int
{
    $fp = wsgate_connect($socketPath);
    try {
        $head = ($binary ? 'BROADCASTB' : 'BROADCASTT') . wsgate_filter($location, $group);
        $status = wsgate_request($fp, $head, $message);
        return (int) substr($status, strlen('OK SENT '));
    } finally {
        fclose($fp);
    }
}

/** The open connections: [id => 'host:port']. */
function wsgate_list(string $socketPath, ?string $location = null, ?string $group = null): array
{
    $fp = wsgate_connect($socketPath);
    try {
        $status = wsgate_request($fp, 'LIST WEBSOCKETS' . wsgate_filter($location, $group));
        $list = [];
        foreach (wsgate_read_block($fp, $status) as $line) {
            [$id, $peer] = explode(' ', $line, 2);
            $list[rawurldecode($id)] = $peer;
        }
        return $list;
    } finally {
        fclose($fp);
    }
}

/** Puts the connection $id into $group (any name; rooms, users...), or takes it out. */
function wsgate_join(string $socketPath, string $id, string $group, bool $leave = false): void
{
    $fp = wsgate_connect($socketPath);
    try {
        wsgate_request($fp, ($leave ? 'LEAVE ' : 'JOIN ') . wsgate_id($id) . ' ' . wsgate_word($group));
    } finally {
        fclose($fp);
    }
}

// Command line: php push.php SOCKET ID MESSAGE. Exit 0 when sent, 1 on usage, 2 on failure.
if (PHP_SAPI === 'cli' && isset($argv[0]) && realpath($argv[0]) === __FILE__) {
    if ($argc !== 4) {
        fwrite(STDERR, "usage: php push.php SOCKET ID MESSAGE\n");
        exit(1);
    }
    try {
        wsgate_send($argv[1], $argv[2], $argv[3]);
    } catch (WsgateException $e) {
        fwrite(STDERR, 'push.php: ' . $e->getMessage() . "\n");
        exit(2);
    }
    exit(0);
}
