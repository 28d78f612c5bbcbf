"""A listener that never accepts: anomaly_listen.py ADDR PORT BACKLOG SECONDS (anomalies.sh)."""
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(int(sys.argv[3]))
print(f"listening {sys.argv[1]}:{sys.argv[2]} backlog {sys.argv[3]}, never accepting", flush=True)
time.sleep(float(sys.argv[4]))
