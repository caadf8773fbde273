"""ssh ProxyCommand of the local host: relays stdin/stdout to HOST PORT. Run inside the host's network
namespace (`ip netns exec`), so that the suite reaches the host without a link from this machine's
network into it."""

import socket
import sys
import threading


def main(host: str, port: int) -> None:
    sock = socket.create_connection((host, port), timeout=10)
    sock.settimeout(None)

    def up() -> None:
        while data := sys.stdin.buffer.read1(65536):
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=up, daemon=True).start()
    while data := sock.recv(65536):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
