/*
 * websocket_plugin.h - the WebSocketPlugin ABI of Apache mod_websocket, as hosted by wsgate.
 *
 * Written for wsgate from the published ABI facts; binary-compatible with plugins built against
 * the original header (layouts are checked by test/fixtures/plugins/abi_layout.c).
 *
 * A plugin exports one init function, named on the config line
 *     WebSocketHandler /path/to/plugin.so init_function_name
 * which returns a WebSocketPlugin that stays valid until its destroy() is called.
 */
#ifndef WEBSOCKET_PLUGIN_H
#define WEBSOCKET_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(_WIN64)
#define CALLBACK __stdcall
#else
#define CALLBACK
#endif

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

/* Message types: on_message receives TEXT or BINARY; send() accepts all but INVALID.
 * CLOSE (or any unknown type) sends a close frame whose payload is the buffer and marks the
 * connection closing: see WS_Send. */
#define MESSAGE_TYPE_INVALID (-1)
#define MESSAGE_TYPE_TEXT 0
#define MESSAGE_TYPE_BINARY 128
#define MESSAGE_TYPE_CLOSE 255
#define MESSAGE_TYPE_PING 256
#define MESSAGE_TYPE_PONG 257

#define WEBSOCKET_SERVER_VERSION_1 1
#define WEBSOCKET_PLUGIN_VERSION_0 0

/* Apache 2.4's request record (include httpd.h for its fields), filled for the handshake; without
 * the httpd shim a zeroed stand-in whose first field is an APR pool. See handlers/c/README.md. */
struct request_rec;

typedef struct _WebSocketServer WebSocketServer;

typedef struct request_rec *(CALLBACK *WS_Request)(const WebSocketServer *server);
/* Case-insensitive request header lookup (repeated lines joined with ", "); NULL when absent; valid
 * for the connection. */
typedef const char *(CALLBACK *WS_Header_Get)(const WebSocketServer *server, const char *key);
/* Replaces a response header (both strings copied); only meaningful inside on_connect. */
typedef void (CALLBACK *WS_Header_Set)(const WebSocketServer *server, const char *key, const char *value);
typedef size_t (CALLBACK *WS_Protocol_Count)(const WebSocketServer *server);
typedef const char *(CALLBACK *WS_Protocol_Index)(const WebSocketServer *server, size_t index);
typedef void (CALLBACK *WS_Protocol_Set)(const WebSocketServer *server, const char *protocol);
/* One unfragmented frame; any thread may call it, and frames keep the order in which one thread
 * sent them. Returns size when queued, 0 otherwise (also for an empty close payload, and once the
 * connection is closing or closed).
 * A close (MESSAGE_TYPE_CLOSE or any type other than TEXT, BINARY, PING, PONG) sends the buffer as
 * the close payload: a 2-byte big-endian code, then an optional UTF-8 reason, e.g. {0x03, 0xE8}
 * for 1000 or {0x0F, 0xA1, 'b', 'y', 'e'} for 4001 "bye". wsgate never puts an invalid close frame
 * on the wire; instead (each logged as a warning naming the plugin):
 *   0 bytes                                   -> close without payload (the peer sees 1005), as close()
 *   1 byte, or a code that may not be sent    -> close 1011 "plugin sent an invalid close"
 *     (allowed: 1000-1003, 1007-1014, 3000-4999)
 *   reason longer than 123 bytes (payload     -> the code, the reason cut to 123 bytes at a
 *     over 125)                                  character boundary
 *   reason that is not valid UTF-8            -> the code without a reason
 * Invalid payloads still count as queued: send returns size. */
typedef size_t (CALLBACK *WS_Send)(const WebSocketServer *server, const int type, const unsigned char *buffer, const size_t buffer_size);
/* Close frame without payload (the peer sees 1005). */
typedef void (CALLBACK *WS_Close)(const WebSocketServer *server);

/* Host-owned (80 bytes on LP64). */
struct _WebSocketServer {
  unsigned int size;
  unsigned int version;
  struct _WebSocketState *state; /* host-private */
  WS_Request request;
  WS_Header_Get header_get;
  WS_Header_Set header_set;
  WS_Protocol_Count protocol_count;
  WS_Protocol_Index protocol_index;
  WS_Protocol_Set protocol_set;
  WS_Send send;
  WS_Close close;
};

typedef struct _WebSocketPlugin WebSocketPlugin;

typedef void (CALLBACK *WS_Destroy)(WebSocketPlugin *plugin);
/* Runs before the 101 answer. NULL declines (403); anything else is `plugin_private`. */
typedef void *(CALLBACK *WS_OnConnect)(const WebSocketServer *server);
/* One complete message; buffer is not NUL-terminated, NULL when empty, valid during the call. */
typedef size_t (CALLBACK *WS_OnMessage)(void *plugin_private, const WebSocketServer *server, const int type, unsigned char *buffer, const size_t buffer_size);
/* Once after any close or drop; `server` is dead once it returns. */
typedef void (CALLBACK *WS_OnDisconnect)(void *plugin_private, const WebSocketServer *server);

/* Plugin-owned (40 bytes on LP64). The host requires version 0, size >= 40, on_message set. */
struct _WebSocketPlugin {
  unsigned int size;
  unsigned int version;
  WS_Destroy destroy;          /* may be NULL */
  WS_OnConnect on_connect;     /* may be NULL: accept all, plugin_private NULL */
  WS_OnMessage on_message;     /* required */
  WS_OnDisconnect on_disconnect; /* may be NULL */
};

#ifdef __cplusplus
}
#endif

#endif /* WEBSOCKET_PLUGIN_H */
