package hit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/cache"
)

// The index is a configuration file compiled for lookups: its [cache]
// table, default_profile, and one record per profile and per git host key,
// in a hash table read with three small reads whatever the number of
// profiles. The engine writes it after a full validation of the file (Save);
// the front uses it only while the file is the one that was validated:
// same path, size, modification and change times to the nanosecond, inode,
// device, owner and mode (a chmod or chown changes the change time too).
// It lives in the user's cache directory, one file per configuration path,
// and is trusted only when that directory and the file are the user's own
// and writable by no one else; the file is written to a temporary name and
// renamed. Anything else, a torn or foreign file included, is a miss: the
// engine then validates the configuration and writes the index again.
//
// Layout: magic, a uint32 header length, the header (a stamp of the
// configuration file, the [cache] table, default_profile, the only
// profile's name when there is one, the bucket count), the bucket table
// (offset and length of each bucket, uint32), then the buckets: records of
// (kind, key, value) whose key hashes to that bucket.

// The version changes whenever the engine's rules for what it accepts
// change, so that an index an older engine wrote is not trusted.
const indexMagic = "veeam-credential-helper index 3\n"

// firstRead is read at once: the whole index of a small configuration.
const firstRead = 4096

// maxIndexSize bounds what Save writes (and so what Open believes).
const maxIndexSize = 1 << 30

const (
	kindProfile = 'p'
	kindGit     = 'g'
)

// Config is what Save compiles: a validated configuration.
type Config struct {
	DefaultProfile string
	Cache          CacheConfig
	Profiles       []Profile
}

// Index is an open, trusted index.
type Index struct {
	f        *os.File
	size     int64
	head     []byte // what was read first
	cache    CacheConfig
	dflt     string
	only     string
	nBuckets uint64
	table    int64 // offset of the bucket table
	racy     bool
}

// settleMargin is how long after its last change a file with nanosecond
// times counts as settled (a variable for the tests of a racy index).
var settleMargin = 50 * time.Millisecond

// indexPath is where the index of the configuration at abs lives.
func indexPath(abs string) (dir, file string) {
	sum := sha256.Sum256([]byte(abs))
	dir = filepath.Join(cache.DefaultDir(), "index")
	return dir, filepath.Join(dir, hex.EncodeToString(sum[:16]))
}

// Open returns the index of the configuration file at path when there is
// one the front may trust (see above); false otherwise.
func Open(path string) (*Index, bool) {
	abs, fi, err := statAbs(path)
	if err != nil {
		return nil, false
	}
	want, ok := stampOf(abs, fi)
	if !ok {
		return nil, false
	}
	dir, file := indexPath(abs)
	if !ownDir(filepath.Dir(dir)) || !ownDir(dir) {
		return nil, false
	}
	f, err := openOwnFile(file)
	if err != nil {
		return nil, false
	}
	ix, ok := readHead(f, abs, want)
	if !ok {
		f.Close()
		return nil, false
	}
	return ix, true
}

func readHead(f *os.File, abs string, want []byte) (*Index, bool) {
	fi, err := f.Stat()
	if err != nil || fi.Size() > maxIndexSize {
		return nil, false
	}
	ix := &Index{f: f, size: fi.Size()}
	ix.head = make([]byte, min(firstRead, ix.size))
	if _, err := f.ReadAt(ix.head, 0); err != nil {
		return nil, false
	}
	n := len(indexMagic)
	if len(ix.head) < n+4 || string(ix.head[:n]) != indexMagic {
		return nil, false
	}
	hlen := int64(binary.LittleEndian.Uint32(ix.head[n:]))
	ix.table = int64(n) + 4 + hlen
	if ix.table > ix.size {
		return nil, false
	}
	if ix.table > int64(len(ix.head)) {
		ix.head = make([]byte, ix.table)
		if _, err := f.ReadAt(ix.head, 0); err != nil {
			return nil, false
		}
	}
	r := byteReader{b: ix.head[n+4 : ix.table]}
	stamp, digest := r.bytes(), r.bytes()
	ix.cache.Backend, ix.cache.Dir, ix.cache.PassphraseEnv = r.str(), r.str(), r.str()
	ix.cache.PassphraseCommand = r.uvarint() == 1
	ix.cache.MaxAge = time.Duration(r.uvarint()) - 1
	ix.dflt, ix.only = r.str(), r.str()
	ix.nBuckets = r.uvarint()
	if r.bad || string(stamp) != string(want) || ix.nBuckets == 0 ||
		ix.table+int64(ix.nBuckets)*8 > ix.size {
		return nil, false
	}
	if len(digest) > 0 {
		ix.racy = true
		if d, ok := digestOf(abs); !ok || string(d) != string(digest) {
			return nil, false
		}
	}
	return ix, true
}

// Racy reports whether the index was written so soon after the file
// changed that every use reads the file to check its content; the engine
// then writes it again.
func (ix *Index) Racy() bool { return ix.racy }

// Close closes the index file.
func (ix *Index) Close() { ix.f.Close() }

// Cache is the configuration's [cache] table.
func (ix *Index) Cache() CacheConfig { return ix.cache }

// read returns n bytes at off, from what was read first when it is there.
func (ix *Index) read(off, n int64) ([]byte, bool) {
	if off < 0 || n < 0 || off+n > ix.size {
		return nil, false
	}
	if off+n <= int64(len(ix.head)) {
		return ix.head[off : off+n], true
	}
	b := make([]byte, n)
	_, err := ix.f.ReadAt(b, off)
	return b, err == nil
}

// find returns the value of the record (kind, key).
func (ix *Index) find(kind byte, key string) ([]byte, bool) {
	slot, ok := ix.read(ix.table+int64(bucketOf(kind, key, ix.nBuckets))*8, 8)
	if !ok {
		return nil, false
	}
	bucket, ok := ix.read(int64(binary.LittleEndian.Uint32(slot)), int64(binary.LittleEndian.Uint32(slot[4:])))
	if !ok {
		return nil, false
	}
	r := byteReader{b: bucket}
	for !r.bad && len(r.b) > 0 {
		k, name, value := r.byte(), r.str(), r.bytes()
		if !r.bad && k == kind && name == key {
			return value, true
		}
	}
	return nil, false
}

// Profile returns the profile called name; "" is default_profile, else
// the only profile. false: no such profile, or the choice needs the
// engine's message.
func (ix *Index) Profile(name string) (*Profile, bool) {
	if name == "" {
		name = ix.dflt
	}
	if name == "" {
		name = ix.only
	}
	if name == "" {
		return nil, false
	}
	v, ok := ix.find(kindProfile, name)
	if !ok {
		return nil, false
	}
	r := byteReader{b: v}
	p := &Profile{Name: name, Product: r.str(), URL: r.str(), Username: r.str(), Grant: r.str(),
		ClientID: r.str(), APIVersion: r.str(), RefreshBefore: time.Duration(r.uvarint()), Engine: r.uvarint() == 1}
	return p, !r.bad && len(r.b) == 0
}

// GitProfileFor picks the profile for git's request as the engine's
// config.GitProfileFor does, for a helper run as `-p NAME git`
// (flagProfile) or with $VEEAM_PROFILE set (envProfile): the profiles
// serving protocol://host (sorted by name), only those whose identity is
// username when git names one; a profile named by -p must be one of them;
// of several, envProfile, else default_profile. (nil, true): not a Veeam
// host, an empty answer. false: the engine's to answer (an error to
// report, an ambiguous choice, a host this strict reader does not take).
func (ix *Index) GitProfileFor(protocol, host, username, flagProfile, envProfile string) (*Profile, bool) {
	key, ok := GitKey(protocol, host)
	if !ok {
		return nil, false
	}
	v, found := ix.find(kindGit, key)
	var names []string
	for r := (byteReader{b: v}); found && !r.bad && len(r.b) > 0; {
		name, identity := r.str(), r.str()
		if r.bad || name == flagProfile && username != "" && username != identity {
			return nil, false
		}
		if name == flagProfile {
			return ix.Profile(name)
		}
		if username == "" || username == identity {
			names = append(names, name)
		}
	}
	switch {
	case flagProfile != "":
		return nil, false // the engine says the profile does not serve the host
	case len(names) == 0:
		return nil, true
	case len(names) == 1:
		return ix.Profile(names[0])
	}
	for _, n := range []string{envProfile, ix.dflt} {
		if n != "" && slices.Contains(names, n) {
			return ix.Profile(n)
		}
	}
	return nil, false
}

// GitKey is "scheme://host:port" for git's protocol and host ("name",
// "name:port", "[v6]:port"), the scheme's default port filled in and the
// name in lower case; false for anything else, which the engine then
// reads. The engine keys git_hosts and urls the same way (config.GitKeys).
func GitKey(protocol, host string) (string, bool) {
	var port string
	switch protocol {
	case "https":
		port = "443"
	case "http":
		port = "80"
	default:
		return "", false
	}
	name := host
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", false
		}
		name = host[1:end]
		rest := host[end+1:]
		if rest != "" {
			if rest[0] != ':' || !isPort(rest[1:]) {
				return "", false
			}
			port = rest[1:]
		}
		if name == "" || strings.Trim(strings.ToLower(name), "0123456789abcdef:.") != "" {
			return "", false
		}
		return protocol + "://[" + strings.ToLower(name) + "]:" + port, true
	}
	if i := strings.IndexByte(host, ':'); i >= 0 {
		if !isPort(host[i+1:]) {
			return "", false
		}
		name, port = host[:i], host[i+1:]
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" {
		return "", false
	}
	return protocol + "://" + name + ":" + port, true
}

func isPort(s string) bool {
	return s != "" && len(s) <= 5 && strings.Trim(s, "0123456789") == ""
}

// Save writes the index of cfg, the configuration validated from the file
// at path whose stamp before it was read was before (see Stamp). It writes
// nothing when the file changed since. A file changed so recently that a
// later change could keep the same times gets a "racy" index that holds
// the content's digest: the front then checks the content too, until the
// engine, on a later call, writes the index again.
func Save(path string, before *FileStamp, cfg Config) error {
	abs, fi, err := statAbs(path)
	if err != nil {
		return err
	}
	now, ok := stampOf(abs, fi)
	if !ok || before == nil || string(now) != string(before.stamp) {
		return errors.New("the configuration file changed while it was read")
	}
	var digest []byte
	if !settled(fi, time.Now()) {
		// Read before and after the engine's read: the same content both
		// times is the content the engine validated.
		d, ok := digestOf(abs)
		if !ok || before.digest == nil || string(d) != string(before.digest) {
			return errors.New("the configuration file changed while it was read")
		}
		digest = d
	}
	dir, file := indexPath(abs)
	if err := cache.EnsureDir(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := cache.EnsureDir(dir); err != nil {
		return err
	}
	b, err := encodeIndex(before.stamp, digest, cfg)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// Forget removes the index of the configuration file at path, for a
// program that deletes a configuration it made (demo --serve): an index
// nobody will use again would stay in the user's cache directory.
func Forget(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	_, file := indexPath(abs)
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// statAbs is the absolute form of path and the FileInfo of the file there.
func statAbs(path string) (string, os.FileInfo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(abs)
	return abs, fi, err
}

// Stamp is what identifies the file at path as it is now, taken before the
// engine reads it, for Save; nil where the platform does not give it.
func Stamp(path string) *FileStamp {
	abs, fi, err := statAbs(path)
	if err != nil {
		return nil
	}
	s, ok := stampOf(abs, fi)
	if !ok {
		return nil
	}
	st := &FileStamp{stamp: s}
	if !settled(fi, time.Now()) {
		st.digest, _ = digestOf(abs)
	}
	return st
}

// FileStamp is what Stamp returns.
type FileStamp struct {
	stamp, digest []byte
}

// digestOf is the SHA-256 of the file's content.
func digestOf(path string) ([]byte, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return sum[:], true
}

func encodeIndex(stamp, digest []byte, cfg Config) ([]byte, error) {
	type record struct {
		kind       byte
		key, value string
	}
	var recs []record
	git := map[string][]string{}
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		var w byteWriter
		w.str(p.Product)
		w.str(p.URL)
		w.str(p.Username)
		w.str(p.Grant)
		w.str(p.ClientID)
		w.str(p.APIVersion)
		w.uvarint(uint64(p.RefreshBefore))
		w.bool(p.Engine)
		recs = append(recs, record{kindProfile, p.Name, string(w.b)})
		for _, k := range p.GitKeys {
			git[k] = append(git[k], p.Name, p.Identity())
		}
	}
	for k, pairs := range git {
		// Sorted by name, as the engine looks at them.
		idx := make([]int, len(pairs)/2)
		for i := range idx {
			idx[i] = 2 * i
		}
		sort.Slice(idx, func(a, b int) bool { return pairs[idx[a]] < pairs[idx[b]] })
		var w byteWriter
		for i, j := range idx {
			if i > 0 && pairs[j] == pairs[idx[i-1]] {
				continue // a profile whose url and git_hosts give the same key
			}
			w.str(pairs[j])
			w.str(pairs[j+1])
		}
		recs = append(recs, record{kindGit, k, string(w.b)})
	}
	n := uint64(1)
	for n < uint64(len(recs)) {
		n *= 2
	}
	buckets := make([][]byte, n)
	for _, r := range recs {
		b := bucketOf(r.kind, r.key, n)
		w := byteWriter{b: buckets[b]}
		w.b = append(w.b, r.kind)
		w.str(r.key)
		w.str(r.value)
		buckets[b] = w.b
	}
	var h byteWriter
	h.str(string(stamp))
	h.str(string(digest))
	h.str(cfg.Cache.Backend)
	h.str(cfg.Cache.Dir)
	h.str(cfg.Cache.PassphraseEnv)
	h.bool(cfg.Cache.PassphraseCommand)
	h.uvarint(uint64(cfg.Cache.MaxAge + 1))
	h.str(cfg.DefaultProfile)
	only := ""
	if len(cfg.Profiles) == 1 {
		only = cfg.Profiles[0].Name
	}
	h.str(only)
	h.uvarint(n)
	out := append([]byte(indexMagic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[len(indexMagic):], uint32(len(h.b)))
	out = append(out, h.b...)
	off := uint64(len(out)) + 8*n
	for _, b := range buckets {
		out = binary.LittleEndian.AppendUint32(out, uint32(off))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
		off += uint64(len(b))
	}
	if off > maxIndexSize {
		return nil, errors.New("configuration too large to index")
	}
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out, nil
}

func bucketOf(kind byte, key string, n uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte{kind})
	h.Write([]byte(key))
	return h.Sum64() & (n - 1)
}

type byteWriter struct{ b []byte }

func (w *byteWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *byteWriter) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *byteWriter) bool(v bool) {
	if v {
		w.uvarint(1)
	} else {
		w.uvarint(0)
	}
}

// byteReader reads what byteWriter wrote; bad turns true at the first
// malformed field and stays true.
type byteReader struct {
	b   []byte
	bad bool
}

func (r *byteReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *byteReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *byteReader) str() string { return string(r.bytes()) }

func (r *byteReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}
