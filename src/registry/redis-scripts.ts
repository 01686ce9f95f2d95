// Lua run inside Redis: routing a command is one atomic call on the node's one command connection,
// so the order in which a node issues commands is the order in which they are published.
// ARGV[1] is always the cluster's key prefix ('wsgate:C:'); the scripts touch keys under it only
// (a standalone Redis or a primary; Redis Cluster is not supported).

/** ARGV: prefix, id, owner 'NODE/MEMBER', ttl ms, node. 1: the id is this node's now (or still). */
export const CLAIM = `
local key = ARGV[1] .. 'id:' .. ARGV[2]
local cur = redis.call('GET', key)
if cur and string.sub(cur, 1, #ARGV[5] + 1) ~= ARGV[5] .. '/' then return 0 end
redis.call('SET', key, ARGV[3], 'PX', ARGV[4])
return 1`;

/** ARGV: prefix, id, node. Deletes the id only while this node holds it. */
export const RELEASE = `
local key = ARGV[1] .. 'id:' .. ARGV[2]
local cur = redis.call('GET', key)
if cur and string.sub(cur, 1, #ARGV[3] + 1) == ARGV[3] .. '/' then redis.call('DEL', key) end
return 0`;

/** ARGV: prefix, id, node, message. Publishes to the node holding the id (unless it is this one);
 *  returns {node, receivers} or {}. */
export const ROUTE = `
local owner = redis.call('GET', ARGV[1] .. 'id:' .. ARGV[2])
if not owner then return {} end
local node = string.match(owner, '^([^/]*)/') or owner
if node == ARGV[3] then return {} end
return {node, redis.call('PUBLISH', ARGV[1] .. 'to:' .. node, ARGV[4])}`;

/** ARGV: prefix, node, message. Publishes to every other live node (forgetting dead ones);
 *  returns {node1, receivers1, node2, receivers2, …}. */
export const FAN_OUT = `
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'nodes')) do
  if node ~= ARGV[2] then
    if redis.call('EXISTS', ARGV[1] .. 'node:' .. node) == 1 then
      out[#out + 1] = node
      out[#out + 1] = redis.call('PUBLISH', ARGV[1] .. 'to:' .. node, ARGV[3])
    else
      redis.call('SREM', ARGV[1] .. 'nodes', node)
    end
  end
end
return out`;

/** ARGV: prefix, node, token, ttl ms. 1: alive (again); 0: another instance holds the name. */
export const HEARTBEAT = `
local key = ARGV[1] .. 'node:' .. ARGV[2]
local cur = redis.call('GET', key)
if cur and cur ~= ARGV[3] then return 0 end
redis.call('SET', key, ARGV[3], 'PX', ARGV[4])
redis.call('SADD', ARGV[1] .. 'nodes', ARGV[2])
return 1`;
