// tlogcheck checks an evident ledger exported as a C2SP tlog-tiles mirror
// (evident tiles export DIR) with code nobody on the evident project wrote:
// golang.org/x/mod/sumdb/note opens the checkpoint note with the verifier
// key, golang.org/x/mod/sumdb/tlog hashes records, builds the tree, reads and
// authenticates tiles, and checks proofs.  Only the C2SP path layout (no
// tile height in the path, "entries" for data) and the bundle encoding (a
// 2-byte big-endian length before each entry) are spelled out here, from
// c2sp.org/tlog-tiles.
//
//	tlogcheck DIR VKEY [PROOF.json ...]
//
// PROOF files are `evident prove inclusion|consistency` output.  Prints one
// summary line and exits 0, or names the first problem and exits 1.
//
// Build (Debian: golang-go, golang-golang-x-mod-dev; no network):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlogcheck main.go
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", a...)
	os.Exit(1)
}

// c2spPath turns Go's tile path (tile/8/L/N, tile/8/data/N) into the C2SP one.
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if strings.HasPrefix(p, "data/") {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("hash %d not computed", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

func hashFromHex(s string) tlog.Hash {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		fail("bad hash %q", s)
	}
	copy(h[:], b)
	return h
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: tlogcheck DIR VKEY [PROOF.json ...]")
	}
	dir, vkey := os.Args[1], os.Args[2]
	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("checkpoint note: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		fail("checkpoint: origin %q is not the key's name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || (len(lines[1]) > 1 && lines[1][0] == '0') {
		fail("checkpoint: bad tree size %q", lines[1])
	}
	rb, err := base64.StdEncoding.DecodeString(lines[2])
	var root tlog.Hash
	if err != nil || len(rb) != len(root) {
		fail("checkpoint: bad root hash %q", lines[2])
	}
	copy(root[:], rb)
	tree := tlog.Tree{N: size, Hash: root}

	// 1. Every leaf hash recomputed from the entry bundles, and compared
	//    with the level-0 tiles; the stored hashes built from them.
	var stored memHashes
	leaves := make([]tlog.Hash, 0, size)
	for i := int64(0); i*256 < size; i++ {
		w := size - i*256
		if w > 256 {
			w = 256
		}
		data, err := os.ReadFile(filepath.Join(dir, c2spPath(tlog.Tile{H: 8, L: -1, N: i, W: int(w)})))
		if err != nil {
			fail("bundle %d: %v", i, err)
		}
		tile0, err := os.ReadFile(filepath.Join(dir, c2spPath(tlog.Tile{H: 8, L: 0, N: i, W: int(w)})))
		if err != nil {
			fail("level-0 tile %d: %v", i, err)
		}
		if int64(len(tile0)) != w*32 {
			fail("level-0 tile %d: %d bytes, want %d", i, len(tile0), w*32)
		}
		off := 0
		for k := int64(0); k < w; k++ {
			if off+2 > len(data) {
				fail("bundle %d: entry %d is missing", i, k)
			}
			l := int(data[off])<<8 | int(data[off+1])
			off += 2
			if off+l > len(data) {
				fail("bundle %d: entry %d runs past the end", i, k)
			}
			h := tlog.RecordHash(data[off : off+l])
			off += l
			if string(h[:]) != string(tile0[k*32:(k+1)*32]) {
				fail("entry %d: its hash differs from the level-0 tile", i*256+k+1)
			}
			hs, err := tlog.StoredHashesForRecordHash(i*256+k, h, &stored)
			if err != nil {
				fail("entry %d: %v", i*256+k+1, err)
			}
			stored = append(stored, hs...)
			leaves = append(leaves, h)
		}
		if off != len(data) {
			fail("bundle %d: %d bytes after its last entry", i, len(data)-off)
		}
	}
	th, err := tlog.TreeHash(size, &stored)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if th != root {
		fail("the root of the %d entries is %s, the checkpoint says %s", size, th, root)
	}

	// 2. The same hashes read through the tiles, each tile authenticated
	//    against the checkpoint by tlog's tile reader.
	idx := make([]int64, len(stored))
	for i := range idx {
		idx[i] = int64(i)
	}
	thr := tlog.TileHashReader(tree, dirTiles{dir})
	fromTiles, err := thr.ReadHashes(idx)
	if err != nil {
		fail("tiles: %v", err)
	}
	for i := range fromTiles {
		if fromTiles[i] != stored[i] {
			fail("tiles: stored hash %d differs from the entries", i)
		}
	}
	tr, err := tlog.TreeHash(size, thr)
	if err != nil || tr != root {
		fail("tiles: the root read through the tiles does not match the checkpoint (%v)", err)
	}

	// 3. Proofs printed by evident.
	proofs := 0
	for _, f := range os.Args[3:] {
		b, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		var p struct {
			LeafIndex *int64   `json:"leaf_index"`
			TreeSize  int64    `json:"tree_size"`
			LeafHash  string   `json:"leaf_hash"`
			Root      string   `json:"root"`
			Size1     int64    `json:"size1"`
			Size2     int64    `json:"size2"`
			Root1     string   `json:"root1"`
			Root2     string   `json:"root2"`
			Proof     []string `json:"proof"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			fail("%s: %v", f, err)
		}
		var pr []tlog.Hash
		for _, s := range p.Proof {
			pr = append(pr, hashFromHex(s))
		}
		if p.LeafIndex != nil {
			lh, r := hashFromHex(p.LeafHash), hashFromHex(p.Root)
			if *p.LeafIndex < size && lh != leaves[*p.LeafIndex] {
				fail("%s: leaf hash differs from the bundle's entry", f)
			}
			if p.TreeSize <= size {
				want, err := tlog.TreeHash(p.TreeSize, &stored)
				if err != nil || want != r {
					fail("%s: root is not the root of the first %d entries", f, p.TreeSize)
				}
			}
			if err := tlog.CheckRecord(tlog.RecordProof(pr), p.TreeSize, r, *p.LeafIndex, lh); err != nil {
				fail("%s: inclusion proof: %v", f, err)
			}
		} else {
			r1, r2 := hashFromHex(p.Root1), hashFromHex(p.Root2)
			for _, c := range []struct {
				n int64
				h tlog.Hash
			}{{p.Size1, r1}, {p.Size2, r2}} {
				if c.n <= size {
					want, err := tlog.TreeHash(c.n, &stored)
					if err != nil || want != c.h {
						fail("%s: root of size %d is not the root of the entries", f, c.n)
					}
				}
			}
			if err := tlog.CheckTree(tlog.TreeProof(pr), p.Size2, r2, p.Size1, r1); err != nil {
				fail("%s: consistency proof: %v", f, err)
			}
		}
		proofs++
	}
	fmt.Printf("ok: checkpoint of %s signed by %s, size %d, root %s; %d leaves recomputed from bundles, %d tile hashes authenticated, %d proofs checked\n",
		lines[0], v.Name(), size, root, len(leaves), len(fromTiles), proofs)
}
