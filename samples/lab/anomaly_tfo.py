"""TFO and plain client/server for anomalies.sh (samples/lab).

  server ADDR PORT TFO      accept, read one request, answer, close (TFO=1 sets TCP_FASTOPEN)
  client ADDR PORT N        N connections with MSG_FASTOPEN (data in the SYN when the kernel can)
  plain ADDR PORT N         N ordinary connections
  bound ADDR PORT LPORT     one ordinary connection from local port LPORT
Client modes print one CSV row per connection: i,local_port,start_epoch,connect_ms,result.
"""
import socket, sys, time
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
REQ = b"GET / tcpdiag-tfo-lab\r\n"
if mode == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sys.argv[4] == "1":
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 64)
    s.bind((addr, port)); s.listen(128)
    print(f"listening {addr}:{port} tfo={sys.argv[4]}", flush=True)
    while True:
        c, peer = s.accept()
        try:
            c.settimeout(5); data = c.recv(4096)
            c.sendall(b"ok " + str(len(data)).encode() + b"\n")
            print(f"{peer[1]},{len(data)}", flush=True)
        except OSError as e:
            print(f"{peer[1]},error {e}", flush=True)
        c.close()
else:
    n = int(sys.argv[4]) if mode != "bound" else 1
    print("i,local_port,start_epoch,connect_ms,result")
    for i in range(n):
        c = socket.socket(); c.settimeout(10)
        if mode == "bound":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); c.bind(("0.0.0.0", int(sys.argv[4])))
        t0 = time.time()
        try:
            if mode == "client":
                c.sendto(REQ, socket.MSG_FASTOPEN, (addr, port))
            else:
                c.connect((addr, port)); c.sendall(REQ)
            ms = (time.time() - t0) * 1000
            reply = c.recv(100)
            print(f"{i},{c.getsockname()[1]},{t0:.6f},{ms:.3f},ok {reply.strip().decode()}", flush=True)
        except OSError as e:
            print(f"{i},{c.getsockname()[1]},{t0:.6f},,error {e}", flush=True)
        c.close()
        time.sleep(0.02)
