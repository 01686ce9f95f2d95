/*
 * echo.c - a WebSocketPlugin that sends every message back with its type and bytes.
 *
 * Build (from the repository root):
 *   cc -shared -fPIC -I handlers/include -o build/plugins/echo.so handlers/c/echo.c
 * Serve:  WebSocketHandler build/plugins/echo.so echo_init   (see conf/native-echo.conf)
 */
#include "websocket_plugin.h"

static size_t CALLBACK echo_on_message(void *plugin_private, const WebSocketServer *server, const int type,
                                       unsigned char *buffer, const size_t buffer_size) {
  (void)plugin_private;
  return server->send(server, type, buffer, buffer_size);
}

static WebSocketPlugin echo_plugin = {
  sizeof(WebSocketPlugin),
  WEBSOCKET_PLUGIN_VERSION_0,
  NULL, /* destroy: nothing to free */
  NULL, /* on_connect: accept everyone */
  echo_on_message,
  NULL, /* on_disconnect: no state */
};

EXPORT WebSocketPlugin *CALLBACK echo_init(void) {
  return &echo_plugin;
}
