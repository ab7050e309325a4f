#!/usr/bin/env python3
"""verify_pack.py - check an evident evidence pack without evident's code.

Python 3 standard library only (tarfile, hashlib, json), following
docs/pack-format.md and RFC 9162.  Checks: the manifest (every file listed,
nothing extra, sizes and SHA-256), every entry's leaf hash and inclusion
proof against checkpoint.json's root, the consistency proof if present, and
evidence file names.  Ed25519 is not in Python's standard library: the
checkpoint and manifest signatures are checked with `openssl pkeyutl -verify
-rawin` when an openssl binary (3.x) is on PATH, and reported as skipped
otherwise.  RFC 3161 tokens are left to `openssl ts -verify` (see the doc).

usage: verify_pack.py PACK.tar.gz      exit 0 ok, 1 verification failed
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

MEMBER_MAX = 256 << 20
TOTAL_MAX = 1 << 30


class Fail(Exception):
    pass


def read_members(path):
    members, total = {}, 0
    with tarfile.open(path, "r:*") as tar:
        for m in tar:
            name = m.name
            while name.startswith("./"):
                name = name[2:]
            name = name.rstrip("/")
            if m.isdir() or name in ("", "."):
                continue
            parts = name.split("/")
            if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
                raise Fail("archive: member name %r is not allowed" % m.name)
            if not m.isfile():
                raise Fail("archive: %s: not a regular file" % name)
            if name in members:
                raise Fail("archive: %s: appears twice" % name)
            if m.size > MEMBER_MAX or total + m.size > TOTAL_MAX:
                raise Fail("archive: %s: over the size limit" % name)
            data = tar.extractfile(m).read()
            total += len(data)
            members[name] = data
    return members


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(l, r):
    return sha256(b"\x01" + l + r)


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1, size2, root1, root2, proof):
    """RFC 9162 section 2.1.4.2."""
    if size1 > size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return False
    if not proof:
        return False
    if size1 & (size1 - 1) == 0:  # a power of two: root1 starts the path
        proof = [root1] + list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


def hexhash(v, what):
    if not isinstance(v, str) or len(v) != 64 or v != v.lower():
        raise Fail("%s: not 64 lower-case hex digits" % what)
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise Fail("%s: not hex" % what)


def pem_raw_key(pem):
    """The 32 raw bytes of an Ed25519 SubjectPublicKeyInfo PEM (RFC 8410: fixed 12-byte prefix)."""
    import base64
    body = b"".join(l for l in pem.splitlines() if l and not l.startswith(b"-----"))
    der = base64.b64decode(body)
    if len(der) != 44 or der[:12] != bytes.fromhex("302a300506032b6570032100"):
        raise Fail("public-key.pem: not an Ed25519 public key")
    return der[12:]


def checkpoint_signed(cp, pem):
    """(message, base64 signature) of a checkpoint.

    Version 2 (a "note" member) is a C2SP signed note (c2sp.org/signed-note,
    c2sp.org/tlog-checkpoint): the text up to the last blank line, then
    signature lines "<U+2014> NAME BASE64(KEYID || SIG)".  The signature that
    counts is under the origin (the text's first line), with key ID
    SHA-256(NAME || 0x0A || 0x01 || PUBLIC KEY)[:4].  Version 1 is the older
    "evident checkpoint v1" text.
    """
    import base64
    if "note" not in cp:
        return (("evident checkpoint v1\nsize %d\nroot %s\ntime %s\n"
                 % (cp["size"], cp["root"], cp["time"])).encode(), cp.get("signature", ""))
    n = cp["note"].encode()
    if not n.endswith(b"\n") or b"\n\n" not in n:
        raise Fail("checkpoint.json: note is not a signed note")
    cut = n.rindex(b"\n\n")
    text, sigs = n[:cut + 1], n[cut + 2:].decode().splitlines()
    lines = text.decode().split("\n")
    if len(lines) < 4 or not lines[1].isdigit() or int(lines[1]) != cp["size"]:
        raise Fail("checkpoint.json: the note's size is not the checkpoint's")
    try:
        if base64.b64decode(lines[2], validate=True).hex() != cp["root"]:
            raise Fail("checkpoint.json: the note's root is not the checkpoint's")
    except ValueError:
        raise Fail("checkpoint.json: the note's root is not base64")
    origin = lines[0]
    kid = hashlib.sha256(origin.encode() + b"\n\x01" + pem_raw_key(pem)).digest()[:4]
    for line in sigs:
        if not line.startswith("\u2014 "):
            raise Fail("checkpoint.json: malformed signature line in the note")
        name, _, b64 = line[2:].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError:
            raise Fail("checkpoint.json: signature line is not base64")
        if name == origin and raw[:4] == kid and len(raw) == 68:
            return text, base64.b64encode(raw[4:]).decode()
    raise Fail("checkpoint.json: the note has no signature by the pack's key under its origin")


def ed25519_verify(pem, msg, sig_b64):
    """True/False with openssl, None when openssl cannot do it here."""
    import base64
    exe = shutil.which("openssl")
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as d:
        k, m, s = (os.path.join(d, n) for n in ("k.pem", "m", "s"))
        open(k, "wb").write(pem)
        open(m, "wb").write(msg)
        try:
            open(s, "wb").write(base64.b64decode(sig_b64, validate=True))
        except Exception:
            return False
        r = subprocess.run([exe, "pkeyutl", "-verify", "-pubin", "-inkey", k, "-rawin",
                            "-in", m, "-sigfile", s], capture_output=True)
        out = r.stdout + r.stderr
        if b"Signature Verified Successfully" in out:
            return True
        if b"rawin" in out and b"nknown" in out:
            return None  # openssl too old for -rawin
        return False


def verify(path):
    notes = []
    ms = read_members(path)
    for need in ("manifest.json", "manifest.sig"):
        if need not in ms:
            raise Fail("%s: missing" % need)
    try:
        man = json.loads(ms["manifest.json"])
    except ValueError:
        raise Fail("manifest.json: not JSON")
    if man.get("format") != "evident-pack-1":
        raise Fail("manifest.json: format is not evident-pack-1")
    listed = set()
    for f in man.get("files", []):
        p = f.get("path")
        if p in listed:
            raise Fail("manifest: %s: listed twice" % p)
        listed.add(p)
        if p not in ms:
            raise Fail("manifest: %s: missing from the archive" % p)
        if len(ms[p]) != f.get("size") or hashlib.sha256(ms[p]).hexdigest() != f.get("sha256"):
            raise Fail("manifest: %s: hash mismatch" % p)
    for p in ms:
        if p not in listed and p not in ("manifest.json", "manifest.sig"):
            raise Fail("manifest: %s: not listed (extra file)" % p)

    pem = ms.get("public-key.pem")
    if pem is None:
        raise Fail("public-key.pem: missing")
    sig = ms["manifest.sig"]
    if len(sig) != 89 or not sig.endswith(b"\n"):
        raise Fail("manifest.sig: not a base64 signature line")
    msg = ("evident pack manifest v1\nsha256 %s\n"
           % hashlib.sha256(ms["manifest.json"]).hexdigest()).encode()
    ok = ed25519_verify(pem, msg, sig[:-1])
    if ok is False:
        raise Fail("manifest.sig: signature does not verify")
    notes.append("manifest signature: " + ("verified (openssl)" if ok else "SKIPPED (no openssl)"))

    try:
        cp = json.loads(ms["checkpoint.json"])
    except (KeyError, ValueError):
        raise Fail("checkpoint.json: missing or not JSON")
    root = hexhash(cp.get("root"), "checkpoint.json root")
    size = cp.get("size")
    if not isinstance(size, int) or size < 0:
        raise Fail("checkpoint.json: size")
    mc = man.get("checkpoint", {})
    if mc.get("root") != cp["root"] or mc.get("size") != size:
        raise Fail("manifest.json: checkpoint is not checkpoint.json's")
    ok = ed25519_verify(pem, *checkpoint_signed(cp, pem))
    if ok is False:
        raise Fail("checkpoint.json: signature does not verify")
    notes.append("checkpoint signature: " + ("verified (openssl)" if ok else "SKIPPED (no openssl)"))

    el = ms.get("entries.jsonl")
    pl = ms.get("proofs.jsonl")
    if el is None or pl is None:
        raise Fail("entries.jsonl/proofs.jsonl: missing")
    if (el and not el.endswith(b"\n")) or (pl and not pl.endswith(b"\n")):
        raise Fail("entries.jsonl: last line is not terminated")
    elines = el.split(b"\n")[:-1] if el else []
    plines = pl.split(b"\n")[:-1] if pl else []
    if len(elines) != len(plines):
        raise Fail("entries.jsonl: %d entries but %d proofs" % (len(elines), len(plines)))
    if len(elines) != man.get("entries"):
        raise Fail("entries.jsonl: %d entries, the manifest says %s" % (len(elines), man.get("entries")))
    last = 0
    for i, (e, p) in enumerate(zip(elines, plines), 1):
        try:
            seq = json.loads(e)["seq"]
            pr = json.loads(p)
        except (ValueError, KeyError, TypeError):
            raise Fail("entries.jsonl line %d: malformed" % i)
        if not isinstance(seq, int) or seq <= last:
            raise Fail("entries.jsonl line %d: seq out of order" % i)
        last = seq
        lh = leaf_hash(e)
        if pr.get("leaf_index") != seq - 1:
            raise Fail("proofs.jsonl line %d: leaf_index is not seq - 1" % i)
        if pr.get("tree_size") != size or pr.get("root") != cp["root"]:
            raise Fail("proofs.jsonl line %d: proof is not against the pack's checkpoint" % i)
        if hexhash(pr.get("leaf_hash"), "proofs.jsonl line %d" % i) != lh:
            raise Fail("entries.jsonl line %d: leaf hash does not match the proof" % i)
        path_ = [hexhash(h, "proofs.jsonl line %d" % i) for h in pr.get("proof", [])]
        if not verify_inclusion(seq - 1, size, lh, path_, root):
            raise Fail("entries.jsonl line %d: inclusion proof does not verify" % i)
    notes.append("%d entries: leaf hashes and inclusion proofs verify" % len(elines))

    if "consistency.json" in ms:
        c = json.loads(ms["consistency.json"])
        if c.get("size2") != size or c.get("root2") != cp["root"]:
            raise Fail("consistency.json: size2/root2 are not the pack's checkpoint")
        if not verify_consistency(c["size1"], c["size2"], hexhash(c["root1"], "root1"),
                                  hexhash(c["root2"], "root2"),
                                  [hexhash(h, "consistency proof") for h in c.get("proof", [])]):
            raise Fail("consistency.json: consistency proof does not verify")
        prev = c.get("previous")
        if prev:
            if prev.get("size") != c["size1"] or prev.get("root") != c["root1"]:
                raise Fail("consistency.json: previous checkpoint is not size1/root1")
            if ed25519_verify(pem, *checkpoint_signed(prev, pem)) is False:
                raise Fail("consistency.json: previous checkpoint signature does not verify")
        notes.append("consistency from size %d verifies" % c["size1"])

    for p, data in ms.items():
        if p.startswith("evidence/") and hashlib.sha256(data).hexdigest() != p[9:]:
            raise Fail("%s: content does not hash to its name" % p)
    if "timestamp.tsr" in ms:
        notes.append("timestamp.tsr: present, not checked here (use openssl ts -verify)")
    return notes


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        notes = verify(sys.argv[1])
    except Fail as e:
        print("FAIL: %s" % e)
        return 1
    except (tarfile.TarError, OSError, EOFError) as e:
        print("FAIL: archive: %s" % e)
        return 1
    print("ok: %s verifies" % sys.argv[1])
    for n in notes:
        print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
