// Command veritrail-verify checks Veritrail receipts, consistency proofs and
// witness cosignatures with the Go reference packages golang.org/x/mod/sumdb/note
// and golang.org/x/mod/sumdb/tlog, independently of Veritrail's Python code.
//
//	veritrail-verify verify-receipt RECEIPT.json VKEY
//	veritrail-verify verify-consistency OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json VKEY
//	veritrail-verify verify-cosignature CHECKPOINT LOG_VKEY WITNESS_VKEY
//
// It prints "ok" and exits 0 when everything checks out, and prints the reason
// and exits 1 otherwise (2 for usage errors).
//
// Built without network in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o veritrail-verify .
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) == 3 && args[0] == "verify-receipt":
		err = verifyReceipt(args[1], args[2])
	case len(args) == 5 && args[0] == "verify-consistency":
		err = verifyConsistency(args[1], args[2], args[3], args[4])
	case len(args) == 4 && args[0] == "verify-cosignature":
		err = verifyCosignature(args[1], args[2], args[3])
	default:
		fmt.Fprintln(os.Stderr, "usage: veritrail-verify verify-receipt RECEIPT.json VKEY\n"+
			"       veritrail-verify verify-consistency OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json VKEY\n"+
			"       veritrail-verify verify-cosignature CHECKPOINT LOG_VKEY WITNESS_VKEY")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "refused:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint verifies a checkpoint note with the log key and reads its body
// (C2SP tlog-checkpoint: origin, size, base64 root hash, optional extensions).
func openCheckpoint(msg []byte, verifiers ...note.Verifier) (*note.Note, checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		return nil, checkpoint{}, err
	}
	signedByLog := false
	for _, sig := range n.Sigs {
		signedByLog = signedByLog || sig.Name == verifiers[0].Name() && sig.Hash == verifiers[0].KeyHash()
	}
	if !signedByLog {
		return nil, checkpoint{}, errors.New("checkpoint not signed by the log key")
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return nil, checkpoint{}, errors.New("malformed checkpoint body")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, checkpoint{}, fmt.Errorf("malformed checkpoint size %q", lines[1])
	}
	root, err := parseHash(lines[2])
	if err != nil {
		return nil, checkpoint{}, fmt.Errorf("checkpoint root: %v", err)
	}
	if lines[0] != verifiers[0].Name() {
		return nil, checkpoint{}, fmt.Errorf("origin %q is not the log key's name %q", lines[0], verifiers[0].Name())
	}
	return n, checkpoint{lines[0], size, root}, nil
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize {
		return h, fmt.Errorf("%q is not a base64 32-byte hash", s)
	}
	copy(h[:], raw)
	return h, nil
}

func parseHashes(list []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, 0, len(list))
	for _, s := range list {
		h, err := parseHash(s)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return hashes, nil
}

func readJSON(path string, v interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// Receipts may carry fields of their own (the record, the log's key); a
	// verifier reads the four it needs and ignores the rest.
	return json.NewDecoder(bytes.NewReader(data)).Decode(v)
}

func verifyReceipt(receiptPath, vkey string) error {
	var receipt struct {
		Checkpoint     string   `json:"checkpoint"`
		Index          int64    `json:"index"`
		Entry          string   `json:"entry"`
		InclusionProof []string `json:"inclusion_proof"`
	}
	if err := readJSON(receiptPath, &receipt); err != nil {
		return fmt.Errorf("receipt: %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	_, cp, err := openCheckpoint([]byte(receipt.Checkpoint), v)
	if err != nil {
		return err
	}
	entry, err := base64.StdEncoding.DecodeString(receipt.Entry)
	if err != nil {
		return fmt.Errorf("entry: %v", err)
	}
	proof, err := parseHashes(receipt.InclusionProof)
	if err != nil {
		return fmt.Errorf("inclusion proof: %v", err)
	}
	return tlog.CheckRecord(tlog.RecordProof(proof), cp.size, cp.root, receipt.Index, tlog.RecordHash(entry))
}

func verifyConsistency(oldPath, newPath, proofPath, vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	var oldCp, newCp checkpoint
	for _, c := range []struct {
		path string
		cp   *checkpoint
	}{{oldPath, &oldCp}, {newPath, &newCp}} {
		msg, err := os.ReadFile(c.path)
		if err != nil {
			return err
		}
		if _, *c.cp, err = openCheckpoint(msg, v); err != nil {
			return fmt.Errorf("%s: %v", c.path, err)
		}
	}
	var doc struct {
		ConsistencyProof []string `json:"consistency_proof"`
	}
	if err := readJSON(proofPath, &doc); err != nil {
		return fmt.Errorf("proof: %v", err)
	}
	proof, err := parseHashes(doc.ConsistencyProof)
	if err != nil {
		return fmt.Errorf("consistency proof: %v", err)
	}
	if oldCp.size > newCp.size {
		return fmt.Errorf("old size %d is larger than new size %d", oldCp.size, newCp.size)
	}
	if oldCp.size == 0 {
		// The empty tree is a prefix of every tree; RFC 9162 has no proof for it.
		if len(proof) != 0 || oldCp.root != tlog.Hash(sha256.Sum256(nil)) {
			return errors.New("invalid consistency from the empty tree")
		}
		return nil
	}
	return tlog.CheckTree(tlog.TreeProof(proof), newCp.size, newCp.root, oldCp.size, oldCp.root)
}

// cosignatureVerifier is a note.Verifier for C2SP tlog-cosignature/v1 (key type 0x04):
// the signature is an 8-byte big-endian timestamp and an Ed25519 signature over
// "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body.
type cosignatureVerifier struct {
	name      string
	hash      uint32
	key       ed25519.PublicKey
	timestamp uint64
}

func newCosignatureVerifier(vkey string) (*cosignatureVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("malformed witness key")
	}
	hash, err1 := strconv.ParseUint(parts[1], 16, 32)
	key, err2 := base64.StdEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(parts[1]) != 8 || len(key) != 33 || key[0] != 0x04 {
		return nil, errors.New("malformed witness key (want an Ed25519 cosignature key, type 0x04)")
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
	if binary.BigEndian.Uint32(h[:4]) != uint32(hash) {
		return nil, errors.New("witness key ID does not match its key")
	}
	return &cosignatureVerifier{name: parts[0], hash: uint32(hash), key: ed25519.PublicKey(key[1:])}, nil
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t > 1<<63-1 {
		return false
	}
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	if !ed25519.Verify(v.key, signed, sig[8:]) {
		return false
	}
	v.timestamp = t
	return true
}

func verifyCosignature(checkpointPath, logVkey, witnessVkey string) error {
	logKey, err := note.NewVerifier(logVkey)
	if err != nil {
		return fmt.Errorf("log key: %v", err)
	}
	witness, err := newCosignatureVerifier(witnessVkey)
	if err != nil {
		return err
	}
	msg, err := os.ReadFile(checkpointPath)
	if err != nil {
		return err
	}
	n, _, err := openCheckpoint(msg, logKey, witness)
	if err != nil {
		return err
	}
	for _, sig := range n.Sigs {
		if sig.Name == witness.name && sig.Hash == witness.hash {
			fmt.Println("timestamp", witness.timestamp)
			return nil
		}
	}
	return errors.New("no cosignature by the witness")
}
