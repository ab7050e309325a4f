#!/usr/bin/env python3
"""pack_tool.py - test helpers for evidence packs (standard library only).

  pack_tool.py members PACK                 member names, one a line
  pack_tool.py flip PACK OUT MEMBER         flip one bit of one byte of MEMBER
  pack_tool.py drop-line PACK OUT N         remove entry N (entries + proofs)
  pack_tool.py add-line PACK OUT N          repeat entry N (entries + proofs)
  pack_tool.py add-line-remanifest PACK OUT N
                                            repeat entry N and fix the manifest
                                            hashes and count (cannot re-sign)
  pack_tool.py add-member PACK OUT NAME     add an unlisted file
  pack_tool.py quarter DATA_DIR [N]         print ~N entry JSON lines of a TSP
                                            quarter for `evident append --stdin`,
                                            writing evidence files to DATA_DIR
The packs written here are repacked by tarfile in the original member order.
"""
import hashlib
import io
import json
import os
import random
import sys
import tarfile


def load(path):
    out = []
    with tarfile.open(path, "r:gz") as t:
        for m in t:
            if m.isfile():
                out.append([m.name, t.extractfile(m).read()])
    return out


def save(path, members):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))


def get(members, name):
    for m in members:
        if m[0] == name:
            return m
    raise SystemExit("no member %s" % name)


def lines_op(members, n, op):
    for name in ("entries.jsonl", "proofs.jsonl"):
        m = get(members, name)
        ls = m[1].split(b"\n")[:-1]
        if op == "drop":
            del ls[n - 1]
        else:
            ls.insert(n, ls[n - 1])
        m[1] = b"".join(l + b"\n" for l in ls)


def remanifest(members):
    m = get(members, "manifest.json")
    man = json.loads(m[1])
    data = dict(members)
    for f in man["files"]:
        f["sha256"] = hashlib.sha256(data[f["path"]]).hexdigest()
        f["size"] = len(data[f["path"]])
    man["entries"] = len(data["entries.jsonl"].split(b"\n")) - 1
    m[1] = (json.dumps(man, sort_keys=True, separators=(",", ":")) + "\n").encode()


def quarter(data_dir, n):
    rnd = random.Random(7)
    ev_dir = os.path.join(data_dir, "evidence")
    os.makedirs(ev_dir, exist_ok=True)
    out = []
    sources = ["ca-signer-01", "tsa-01", "hsm-audit", "fw-edge", "ra-portal"]
    n_inc = 8
    logs = n - n_inc * 8 - 40
    for i in range(max(logs, 0)):
        s = rnd.choice(sources)
        out.append({"kind": "log", "subject": s, "actor": "ingest",
                    "body": {"line": "%s event %d status=%s" % (s, i, rnd.choice(["ok", "denied", "warn"]))}})
    for i in range(40):
        out.append({"kind": "alert.raised", "subject": "alert-%d" % (i + 1), "actor": "rule:ssh-bruteforce",
                    "body": {"rule": rnd.choice(["ssh-bruteforce", "hsm-login-failure", "tsa-clock-drift"]),
                             "level": rnd.choice(["medium", "high"])}})
    rnd.shuffle(out)
    for k in range(n_inc):
        inc = "inc-2026-%04d" % (k + 1)
        blob = ("evidence for %s: firewall export %d\n" % (inc, k)).encode()
        h = hashlib.sha256(blob).hexdigest()
        with open(os.path.join(ev_dir, h), "wb") as f:
            f.write(blob)
        owner = "alice"
        steps = [
            ("incident.opened", owner, {"title": "Incident %d <b>&amp; test</b>" % (k + 1)}),
            ("incident.classified", owner, {"severity": rnd.choice(["low", "medium", "high", "critical"]),
                                            "category": "intrusion", "significant": rnd.choice(["yes", "no"]),
                                            "reason": "triage"}),
            ("incident.action", owner, {"type": "containment", "note": "blocked source",
                                        "evidence": {"sha256": h, "name": "fw-export.txt", "size": len(blob)}}),
            ("incident.notified", owner, {"to": "supervisory-body", "clock": "en319401-7.9.3",
                                          "ref": "N-%d" % (k + 1), "note": "sent"}),
            ("incident.review", owner, {"root_cause": "weak credential", "vulnerability_exposure": "none",
                                        "actions": ["enforce mfa"]}),
            ("incident.review_approved", "bob", {}),
            ("incident.closed", owner, {"note": "resolved"}),
        ]
        if k % 3 == 2:
            steps = steps[:3]  # still open
        for kind, actor, body in steps:
            out.append({"kind": kind, "subject": inc, "actor": actor, "body": body})
    for e in out:
        print(json.dumps(e, sort_keys=True))


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    cmd = a[0]
    if cmd == "members":
        for name, _ in load(a[1]):
            print(name)
        return
    if cmd == "quarter":
        quarter(a[1], int(a[2]) if len(a) > 2 else 500)
        return
    members = load(a[1])
    if cmd == "flip":
        m = get(members, a[3])
        b = bytearray(m[1])
        b[len(b) // 2] ^= 0x01
        m[1] = bytes(b)
    elif cmd == "drop-line":
        lines_op(members, int(a[3]), "drop")
    elif cmd == "add-line":
        lines_op(members, int(a[3]), "add")
    elif cmd == "add-line-remanifest":
        lines_op(members, int(a[3]), "add")
        remanifest(members)
    elif cmd == "add-member":
        members.append([a[3], b"not in the manifest\n"])
    else:
        raise SystemExit("unknown command %s" % cmd)
    save(a[2], members)


if __name__ == "__main__":
    main()
