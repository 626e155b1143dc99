#!/usr/bin/env python3
"""A local OAI-PMH replay server for bench/harvest.sh.

Serves COPIES pages of the recorded 1,000-record arXivRaw page, chained by
resumption tokens (bench|1, bench|2, ...). Copy k has its ids moved to
another month (0801.NNNN -> YYMM.NNNN, k = 0 is the recording itself) so
that every page holds 1,000 new papers (and titles prefixed "Copy k: ", as
the store matches papers by title too). Prints its base URL on stdout, then
serves until killed.

    python3 bench/harvest_replay.py PAGE.xml COPIES
"""
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

page_path, copies = sys.argv[1], int(sys.argv[2])
text = open(page_path, encoding="utf-8").read()
first = text.index("<record>")
last = text.rindex("</record>") + len("</record>")
head, records = text[:first], text[first:last]
pages = []
for k in range(copies):
    yymm = f"{8 + k // 12:02d}{1 + k % 12:02d}"
    body = re.sub(r"(<id>|oai:arXiv\.org:)0801\.", lambda m: f"{m.group(1)}{yymm}.", records)
    if k:  # distinct titles too, or the store would take each copy for a retitled duplicate
        body = body.replace("<title>", f"<title>Copy {k}: ")
    token = (f"<resumptionToken cursor='{k * 1000}' completeListSize='{copies * 1000}'>bench|{k + 1}</resumptionToken>"
             if k + 1 < copies else f"<resumptionToken cursor='{k * 1000}' completeListSize='{copies * 1000}'/>")
    pages.append(f"{head}{body}\n{token}\n</ListRecords>\n</OAI-PMH>\n".encode("utf-8"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        token = q.get("resumptionToken", [""])[0]
        k = int(token.split("|")[1]) if token.startswith("bench|") else 0
        body = pages[k] if k < len(pages) else b"no such page"
        self.send_response(200 if k < len(pages) else 404)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}/oai", flush=True)
server.serve_forever()
