#!/usr/bin/python3
"""hellod: a small TCP greeting daemon, written the way the python-daemon and
systemd tutorials write a daemon today, and knowing nothing of daemonbox.

- It stays in the foreground and logs to stdout: the service manager
  detaches it and keeps its log.
- It tells the manager it is ready with sd_notify (READY=1 to the datagram
  socket in $NOTIFY_SOCKET), the standalone way sd_notify(3) shows, so it
  needs no module beyond the standard library.
- SIGHUP re-reads its configuration; SIGTERM (or SIGINT) ends it cleanly.

Each connection gets one line, the configured greeting, and is closed.

    /usr/bin/python3 hellod.py --config hellod.conf
"""

import argparse
import configparser
import logging
import os
import selectors
import signal
import socket
import sys
import time

log = logging.getLogger("hellod")


def notify(message):
    """Send a state to the service manager, if there is one."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address[0] == "@":  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(message.encode())


class Hellod:
    def __init__(self, config_path):
        self.config_path = config_path
        self.listen = None
        self.greeting = None
        self.load()

    def load(self):
        config = configparser.ConfigParser()
        with open(self.config_path) as f:
            config.read_file(f)
        section = config["hellod"]
        listen = section.get("listen", "127.0.0.1:8490")
        if self.listen is not None and listen != self.listen:
            log.warning("listen changed to %s: a restart applies it", listen)
        else:
            self.listen = listen
        self.greeting = section.get("greeting", "hello")
        log.info("config %s: listen %s, greeting %r", self.config_path, self.listen, self.greeting)

    def reload(self):
        notify("RELOADING=1\nMONOTONIC_USEC=%d" % (time.monotonic_ns() // 1000))
        try:
            self.load()
        except (OSError, configparser.Error, KeyError) as e:
            log.error("reload failed, keeping the old config: %s", e)
        notify("READY=1\nSTATUS=greeting %r" % self.greeting)

    def serve(self):
        # The signal handlers do nothing: Python writes each signal's number
        # to the wakeup pipe, and the loop acts on it, so that no handler
        # runs in the middle of a log write (logging is not reentrant).
        wakeup_r, wakeup_w = os.pipe()
        for fd in (wakeup_r, wakeup_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wakeup_w)
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda signum, frame: None)
        host, port = self.listen.rsplit(":", 1)
        with socket.create_server((host, int(port))) as server, selectors.DefaultSelector() as sel:
            sel.register(server, selectors.EVENT_READ)
            sel.register(wakeup_r, selectors.EVENT_READ)
            log.info("listening on %s:%d", *server.getsockname()[:2])
            notify("READY=1\nSTATUS=greeting %r" % self.greeting)
            while True:
                for key, _ in sel.select():
                    if key.fileobj is server:
                        self.greet(server)
                    elif not self.handle_signals(os.read(wakeup_r, 64)):
                        return

    def greet(self, server):
        conn, peer = server.accept()
        with conn:
            conn.sendall((self.greeting + "\n").encode())
        log.info("greeted %s:%d", *peer[:2])

    def handle_signals(self, signums):
        """Act on the signals that arrived; False once it should exit."""
        for signum in signums:
            if signum == signal.SIGHUP:
                self.reload()
            else:
                log.info("%s: exiting", signal.Signals(signum).name)
                notify("STOPPING=1")
                return False
        return True


def main():
    parser = argparse.ArgumentParser(description="a TCP greeting daemon")
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(name)s: %(levelname)s %(message)s")
    Hellod(args.config).serve()


if __name__ == "__main__":
    main()
