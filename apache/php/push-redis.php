<?php
// Push to browsers connected to any node of a wsgate cluster (WebSocketClusterRedis), from PHP,
// with a plain Redis PUBLISH: no socket to the gateway, no answer. Every node subscribes to
// wsgate:CLUSTER:push and delivers what it holds. Needs phpredis (Debian: php-redis).
// Include this file from your application, or run it:
//
//     php push-redis.php redis://127.0.0.1:6379 wsgate ID MESSAGE
//
// The message format is wsgate's stable contract (README, "Several machines (Redis)"): JSON with
// "op" send|broadcast|close|join|leave, "id", "location", "group", "except", "code", "reason", and
// the payload as "text" (UTF-8) or "binary" (base64). PUBLISH answers how many nodes got it;
// whether a connection matched is not reported (use the control channel when that matters).

declare(strict_types=1);

final class WsgatePushException extends RuntimeException
{
}

/** Connects to the cluster's Redis: redis://[:PASSWORD@]HOST[:PORT][/DB], rediss:// for TLS. */
function wsgate_redis(string $url, float $timeout = 5.0): Redis
{
    $u = parse_url($url);
    if ($u === false || !isset($u['host']) || !in_array($u['scheme'] ?? '', ['redis', 'rediss'], true)) {
        throw new WsgatePushException("not a redis:// or rediss:// URL: $url");
    }
    $redis = new Redis();
    $host = ($u['scheme'] === 'rediss' ? 'tls://' : '') . $u['host'];
    try {
        $redis->connect($host, (int) ($u['port'] ?? 6379), $timeout);
        if (isset($u['pass'])) {
            $redis->auth(isset($u['user']) && $u['user'] !== '' ? [rawurldecode($u['user']), rawurldecode($u['pass'])] : rawurldecode($u['pass']));
        }
        $db = ltrim($u['path'] ?? '', '/');
        if ($db !== '') {
            $redis->select((int) $db);
        }
    } catch (RedisException $e) {
        throw new WsgatePushException("cannot reach Redis at {$u['host']}: " . $e->getMessage());
    }
    return $redis;
}

/** Publishes one push; returns how many nodes received it (0: no node is running). */
function wsgate_publish(Redis $redis, string $cluster, array $push): int
{
    try {
        return (int) $redis->publish("wsgate:$cluster:push", json_encode($push, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    } catch (RedisException $e) {
        throw new WsgatePushException('PUBLISH failed: ' . $e->getMessage());
    }
}

/** The payload as the contract wants it: "text" (must be UTF-8) or "binary" (base64). */
function wsgate_payload(string $message, bool $binary): array
{
    return $binary ? ['binary' => base64_encode($message)] : ['text' => $message];
}

function wsgate_push_send(Redis $redis, string $cluster, string $id, string $message, bool $binary = false): int
{
    return wsgate_publish($redis, $cluster, ['op' => 'send', 'id' => $id] + wsgate_payload($message, $binary));
}

function wsgate_push_broadcast(Redis $redis, string $cluster, string $message, ?string $location = null, ?string $group = null, bool $binary = false): int
{
    $push = ['op' => 'broadcast'];
    if ($location !== null) {
        $push['location'] = $location;
    }
    if ($group !== null) {
        $push['group'] = $group;
    }
    return wsgate_publish($redis, $cluster, $push + wsgate_payload($message, $binary));
}

function wsgate_push_close(Redis $redis, string $cluster, string $id, ?int $code = null, ?string $reason = null): int
{
    $push = ['op' => 'close', 'id' => $id];
    if ($code !== null) {
        $push['code'] = $code;
    }
    if ($reason !== null) {
        $push['reason'] = $reason;
    }
    return wsgate_publish($redis, $cluster, $push);
}

// Command line: php push-redis.php REDIS_URL CLUSTER ID MESSAGE. Exit 0 when at least one node
// received it, 1 on usage, 2 on failure (Redis unreachable, or no node subscribed).
if (PHP_SAPI === 'cli' && isset($argv[0]) && realpath($argv[0]) === __FILE__) {
    if ($argc !== 5) {
        fwrite(STDERR, "usage: php push-redis.php REDIS_URL CLUSTER ID MESSAGE\n");
        exit(1);
    }
    if (!class_exists('Redis')) {
        fwrite(STDERR, "push-redis.php: phpredis is not installed (Debian: apt-get install php-redis)\n");
        exit(2);
    }
    try {
        $nodes = wsgate_push_send(wsgate_redis($argv[1]), $argv[2], $argv[3], $argv[4]);
    } catch (WsgatePushException $e) {
        fwrite(STDERR, 'push-redis.php: ' . $e->getMessage() . "\n");
        exit(2);
    }
    if ($nodes === 0) {
        fwrite(STDERR, "push-redis.php: no wsgate node of cluster '{$argv[2]}' is subscribed\n");
        exit(2);
    }
    exit(0);
}
