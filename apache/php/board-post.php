<?php
// A web form handler that posts to the message board (handlers/board/index.html): every open
// board page (or one room's) receives {"title", "text"} as JSON. Served by Apache with mod_php
// or PHP-FPM next to push.php; set WSGATE_CONTROL_SOCKET in the environment if the socket is
// not at the default path.
//
//     curl -d title=Hello -d text='from PHP' http://HOST/board-post.php[?room=NAME]

declare(strict_types=1);

require __DIR__ . '/push.php';

$socket = getenv('WSGATE_CONTROL_SOCKET') ?: '/run/wsgate/control.sock';

if (($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'POST') {
    http_response_code(405);
    header('Allow: POST');
    exit;
}

$message = json_encode([
    'title' => (string) ($_POST['title'] ?? ''),
    'text' => (string) ($_POST['text'] ?? ''),
    'at' => gmdate('c'),
], JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);

$room = (string) ($_GET['room'] ?? '');
if ($room !== '' && preg_match('/^[A-Za-z0-9_-]{1,64}$/', $room) !== 1) {
    http_response_code(400);
    exit;
}

header('Content-Type: application/json');
try {
    // A room is a group on the control socket (@NAME); without one, every board page gets it.
    $sent = wsgate_broadcast($socket, $message, '/board', false, $room === '' ? null : $room);
    echo json_encode(['sent' => $sent]), "\n";
} catch (WsgateException $e) {
    http_response_code(502);
    echo json_encode(['error' => $e->getMessage()]), "\n";
}
