#!/usr/bin/env python3
"""Bounded short-connection client for the tcpdiag namespace lab.

Makes --count connections one after another (like a PHP short-connection
client talking to MySQL) and logs one CSV row per connect:
  seq, tag, dst, dst_port, local_port, start_epoch, connect_ms, result,
  total_ms, bytes_sent

connect() is done non-blocking so that the local port is known right after
the SYN is queued (getsockname) even when the connect later fails, and so
that connect_ms is the time from connect() to the socket becoming writable
(= SYN .. SYN-ACK as seen by the application, including SYN retransmits).

Modes:
  quit     send filler + "QUIT\n", read until EOF (server closes first), close
  client   send filler + "QUIT\n", read "BYE\n", close (client closes first)
  connect  connect only, then close (used for refused / unanswered SYNs)
  (--concurrent N: N such connections at once instead of one after another)
  long     connect, create --ready-file, wait for --go-file, then --pings
           PING/PONG round trips --ping-gap-ms apart, then QUIT (server closes)
  pooled   a connection pool: --count connections opened once, then
           --requests requests (filler + "REQ\n", answered "OK\n") spread
           round-robin over them, --gap-ms apart, then QUIT on each (server
           closes first, as in quit mode); one CSV row per connection, written
           at the end (total_ms = connect .. server FIN, bytes_sent = all of
           that connection's requests + QUIT)
"""
import argparse
import csv
import errno
import os
import select
import socket
import sys
import threading
import time


def do_connect(fam, dst, port, timeout, bind_src, bind_port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    if bind_port:
        # Explicit source port: SO_REUSEADDR so bind() is not refused while an
        # older socket on the same port lingers (connect() may still refuse
        # with EADDRNOTAVAIL if THIS host holds the 4-tuple in TIME_WAIT).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((bind_src, bind_port))
    s.setblocking(False)
    t0 = time.time()
    m0 = time.monotonic()
    rc = s.connect_ex((dst, port))
    lport = s.getsockname()[1]
    if rc not in (0, errno.EINPROGRESS):
        return s, t0, lport, (time.monotonic() - m0) * 1000, errno.errorcode.get(rc, str(rc))
    if rc == errno.EINPROGRESS:
        _, w, _ = select.select([], [s], [], timeout)
        if not w:
            return s, t0, lport, (time.monotonic() - m0) * 1000, "timeout"
        rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    ms = (time.monotonic() - m0) * 1000
    if rc:
        return s, t0, lport, ms, errno.errorcode.get(rc, str(rc))
    s.setblocking(True)
    return s, t0, lport, ms, "ok"


def read_until(s, pred, limit_s=10):
    s.settimeout(limit_s)
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            return buf, True
        buf += d
        if pred(buf):
            return buf, False


def wait_file(path, limit_s):
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--payload", type=int, default=0, help="filler bytes before QUIT")
    ap.add_argument("--mode", choices=["quit", "client", "connect", "long", "pooled"], default="quit")
    ap.add_argument("--timeout", type=float, default=10.0, help="connect timeout, s")
    ap.add_argument("--gap-ms", type=float, default=0.0, help="pause between connects")
    ap.add_argument("--bind-src", default="")
    ap.add_argument("--bind-ports", default="", help="comma list, used round-robin")
    ap.add_argument("--tag", default="")
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-seconds", type=float, default=120.0, help="hard bound on the run")
    ap.add_argument("--ready-file", default="")
    ap.add_argument("--go-file", default="")
    ap.add_argument("--pings", type=int, default=0)
    ap.add_argument("--ping-gap-ms", type=float, default=100.0)
    ap.add_argument("--concurrent", type=int, default=0,
                    help="N > 1: N connections started at the same moment (threads), e.g. listen-overflow")
    ap.add_argument("--send-delay-ms", type=float, default=0.0,
                    help="pause between connect() success and the first send (quit/client modes)")
    ap.add_argument("--requests", type=int, default=0,
                    help="pooled mode: requests spread over the --count pooled connections")
    ap.add_argument("--read-timeout", type=float, default=10.0, help="per recv() timeout, s")
    args = ap.parse_args()

    fam = socket.AF_INET6 if ":" in args.dst else socket.AF_INET
    ports = [int(p) for p in args.bind_ports.split(",") if p]
    filler = b"x" * args.payload
    new = not os.path.exists(args.log)
    logf = open(args.log, "a", newline="")
    w = csv.writer(logf)
    if new:
        w.writerow(["seq", "tag", "dst", "dst_port", "local_port", "start_epoch",
                    "connect_ms", "result", "total_ms", "bytes_sent"])
    end = time.monotonic() + args.max_seconds
    ok = fail = 0

    def one(i):
        """One connection; returns its CSV row."""
        bport = ports[i % len(ports)] if ports else 0
        m0 = time.monotonic()
        try:
            s, t0, lport, cms, res = do_connect(fam, args.dst, args.port, args.timeout,
                                                 args.bind_src, bport)
        except OSError as e:  # bind() failure etc.
            t0, lport, cms, res, s = time.time(), bport, 0.0, errno.errorcode.get(e.errno, str(e)), None
        sent = 0
        if res == "ok":
            try:
                if args.mode in ("quit", "client"):
                    if args.send_delay_ms:  # e.g. a client waiting for a server greeting
                        time.sleep(args.send_delay_ms / 1000)
                    s.sendall(filler + b"QUIT\n")
                    sent = len(filler) + 5
                    if args.mode == "quit":
                        read_until(s, lambda b: False, args.read_timeout)   # until server's FIN
                    else:
                        read_until(s, lambda b: b.endswith(b"BYE\n"), args.read_timeout)
                elif args.mode == "long":
                    if args.ready_file:
                        open(args.ready_file, "w").close()
                    if args.go_file:
                        wait_file(args.go_file, 15)
                    for _ in range(args.pings):
                        s.sendall(b"PING\n")
                        sent += 5
                        read_until(s, lambda b: b.endswith(b"PONG\n"))
                        time.sleep(args.ping_gap_ms / 1000)
                    s.sendall(b"QUIT\n")
                    sent += 5
                    read_until(s, lambda b: False)
            except OSError as e:
                res = "io-" + errno.errorcode.get(e.errno, str(e))
        if s is not None:
            s.close()
        total = (time.monotonic() - m0) * 1000
        return [i, args.tag, args.dst, args.port, lport, "%.6f" % t0, "%.3f" % cms, res,
                "%.3f" % total, sent]

    if args.mode == "pooled":
        # Open the pool once; every request reuses a live connection, so no
        # new SYN (and no 4-tuple left in TIME_WAIT) is needed per request.
        pool = []
        for i in range(args.count):
            m0 = time.monotonic()
            s, t0, lport, cms, res = do_connect(fam, args.dst, args.port, args.timeout,
                                                 args.bind_src, ports[i % len(ports)] if ports else 0)
            pool.append({"s": s, "m0": m0, "t0": t0, "lport": lport, "cms": cms, "res": res, "sent": 0})
        live = [c for c in pool if c["res"] == "ok"]
        for r in range(args.requests if live else 0):
            if time.monotonic() > end:
                print("max-seconds reached, stopping", file=sys.stderr)
                break
            c = live[r % len(live)]
            if c["res"] != "ok":
                continue
            try:
                c["s"].sendall(filler + b"REQ\n")
                c["sent"] += len(filler) + 4
                read_until(c["s"], lambda b: b.endswith(b"OK\n"), args.read_timeout)
            except OSError as e:
                c["res"] = "io-" + errno.errorcode.get(e.errno, str(e))
            if args.gap_ms:
                time.sleep(args.gap_ms / 1000)
        for c in pool:
            if c["res"] == "ok":
                try:
                    c["s"].sendall(b"QUIT\n")
                    c["sent"] += 5
                    read_until(c["s"], lambda b: False, args.read_timeout)   # until server's FIN
                except OSError as e:
                    c["res"] = "io-" + errno.errorcode.get(e.errno, str(e))
            c["s"].close()
        for i, c in enumerate(pool):
            w.writerow([i, args.tag, args.dst, args.port, c["lport"], "%.6f" % c["t0"], "%.3f" % c["cms"],
                        c["res"], "%.3f" % ((time.monotonic() - c["m0"]) * 1000), c["sent"]])
            ok += c["res"] == "ok"
            fail += c["res"] != "ok"
    elif args.concurrent > 1:
        # --concurrent N: N threads released together by a barrier, one
        # connection each (count is ignored); rows are logged in start order.
        barrier = threading.Barrier(args.concurrent)
        rows = [None] * args.concurrent

        def worker(i):
            barrier.wait()
            rows[i] = one(i)
        ths = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.concurrent)]
        for t in ths:
            t.start()
        for t in ths:  # bounded: each thread is bounded by --timeout and --read-timeout
            t.join(max(0.1, end - time.monotonic()))
        for r in sorted((r for r in rows if r), key=lambda r: float(r[5])):
            w.writerow(r)
            ok += r[7] == "ok"
            fail += r[7] != "ok"
    else:
        for i in range(args.count):
            if time.monotonic() > end:
                print("max-seconds reached, stopping", file=sys.stderr)
                break
            row = one(i)
            if row[7] == "ok":
                ok += 1
            else:
                fail += 1
            w.writerow(row)
            logf.flush()
            if args.gap_ms:
                time.sleep(args.gap_ms / 1000)
    logf.close()
    print("tag=%s ok=%d failed=%d" % (args.tag, ok, fail))


if __name__ == "__main__":
    sys.exit(main())
