#!/usr/bin/env python3
"""tsa_server.py DIR PORTFILE [SECONDS] - a tiny RFC 3161 TSA on loopback.

Each POST body (application/timestamp-query) is piped through
`openssl ts -reply -config DIR/tsa.cnf` and the reply returned as
application/timestamp-reply.  Listens on 127.0.0.1 on a free port, writes
the port to PORTFILE, and stops by itself after SECONDS (default 300).
Test use only.
"""
import http.server
import os
import subprocess
import sys
import tempfile
import threading

DIR, PORTFILE = sys.argv[1], sys.argv[2]
LIFETIME = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n <= 0 or n > 65536:
            self.send_error(400)
            return
        q = self.rfile.read(n)
        with tempfile.TemporaryDirectory() as d:
            qf, rf = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
            open(qf, "wb").write(q)
            r = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(DIR, "tsa.cnf"),
                                "-queryfile", qf, "-out", rf], capture_output=True)
            if r.returncode != 0:
                self.send_error(500, r.stderr.decode(errors="replace")[:200])
                return
            body = open(rf, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
threading.Timer(LIFETIME, srv.shutdown).start()
srv.serve_forever()
