#!/usr/bin/env python3
"""Tiny line-protocol server for the tcpdiag namespace lab.

Protocol (deliberately MySQL-like where it matters):
  * the client may send any amount of filler bytes (no newlines),
  * "PING\n" is answered with "PONG\n" (used by the long-lived connection),
  * "REQ\n" ends one request of a pooled connection and is answered with
    "OK\n"; the connection stays open for the next request,
  * "QUIT\n" ends the session.

On QUIT the server answers "BYE\n" and then, depending on --close:
  server  close() at once, so the SERVER sends the first FIN and holds
          TIME_WAIT (what mysqld does on COM_QUIT; the incident's situation);
  client  wait for the client's FIN and only then close(), so the CLIENT is
          the active closer and holds TIME_WAIT.

Every accepted connection is logged (peer port, accept time, bytes read,
who closed) as CSV so expected.json can be cross-checked against it.
Runs until SIGTERM or --max-seconds, whichever comes first (bounded).
--backlog and --accept-delay-ms (defaults 512 and 0, as before) make a server
with a tiny accept queue and a slow accept loop (scenario listen-overflow).
"""
import argparse
import csv
import signal
import socket
import sys
import threading
import time

lock = threading.Lock()


def serve_one(conn, peer, mode, writer, logf):
    t0 = time.time()
    nbytes = 0
    tail = b""
    quit_seen = False
    closed_by = "?"
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                closed_by = "client-eof-before-quit"
                break
            nbytes += len(chunk)
            # Only short command lines matter; the filler never contains '\n',
            # so keeping a short tail avoids quadratic buffering.
            data = tail + chunk
            lines = data.split(b"\n")
            tail = lines.pop()[-16:]
            for line in lines:
                if line.endswith(b"PING"):
                    conn.sendall(b"PONG\n")
                elif line.endswith(b"REQ"):
                    conn.sendall(b"OK\n")
                elif line.endswith(b"QUIT"):
                    quit_seen = True
            if quit_seen:
                break
        if quit_seen:
            conn.sendall(b"BYE\n")
            if mode == "server":
                closed_by = "server"
            else:
                # Let the client send its FIN first.
                while conn.recv(65536):
                    pass
                closed_by = "client"
    except OSError as e:
        closed_by = "error:" + (e.strerror or str(e))
    finally:
        conn.close()
    with lock:
        writer.writerow([peer[1], "%.6f" % t0, "%.6f" % time.time(), nbytes, closed_by])
        logf.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--close", choices=["server", "client"], default="server")
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--backlog", type=int, default=512, help="listen() backlog (listen-overflow: 1 or 2)")
    ap.add_argument("--accept-delay-ms", type=float, default=0.0,
                    help="sleep after each accept() (a slow accept loop; listen-overflow)")
    args = ap.parse_args()

    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(args.backlog)
    ls.settimeout(0.5)

    logf = open(args.log, "w", newline="")
    writer = csv.writer(logf)
    writer.writerow(["peer_port", "accept_time", "close_time", "bytes_read", "closed_by"])
    logf.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    deadline = time.time() + args.max_seconds
    print("listening", args.bind, args.port, args.close, flush=True)
    while not stop.is_set() and time.time() < deadline:
        try:
            conn, peer = ls.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        threading.Thread(target=serve_one, args=(conn, peer, args.close, writer, logf), daemon=True).start()
        if args.accept_delay_ms:
            stop.wait(args.accept_delay_ms / 1000)
    ls.close()
    time.sleep(0.3)  # let in-flight sessions log
    logf.close()


if __name__ == "__main__":
    sys.exit(main())
