"""A test app for websockets through the proxy: /ws echoes every message back, any other GET answers PAGE.

app.json names the startup check (GET / over HTTP/1.1): the default check asks with HTTP/1.0, which
websockets' server does not answer (it closes the connection), so the deploy would fail.
"""

import asyncio
import os
import signal
from http import HTTPStatus

from websockets.asyncio.server import serve

PAGE = "wsecho: websocket echo on /ws"


def process_request(connection, request):
    """Plain HTTP (and the platform's checks) gets PAGE; only /ws goes on to the websocket handshake."""
    if request.path != "/ws":
        return connection.respond(HTTPStatus.OK, PAGE)
    return None


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(echo, "0.0.0.0", int(os.environ["PORT"]), process_request=process_request):
        await stop


asyncio.run(main())
